import { compileTemplate, unescapeFormat } from './go-template.js';
import { UsageError } from '../errors.js';
import { withJsonNumbers } from './go-value.js';
import type { JobResult } from '../jobs/types.js';

/**
 * One looked-up object of an inspect verb, or the error docker prints for it.
 * - `value`: the object as JSON (what `{{json}}` and the default output are made of);
 * - `text`: the engine's bytes for it, when docker prints those (json.Indent of the raw answer);
 * - `typed`: the Go value docker's template runs over first (types.ContainerJSON, …);
 * - `fallback`: docker had the raw bytes, so a template failing on the typed value is run again
 *   over the raw JSON, with missingkey=error (that is why `{{.Id}}` works on a container).
 */
export type Inspected = { value: unknown; text?: string; typed?: unknown; fallback?: boolean } | { error: string };

export interface InspectOptions {
  /** -f/--format; empty means docker's indented JSON array. */
  format?: string;
  /**
   * The CLI re-marshals a typed struct (volume inspect): json.Marshal escapes <, > and & in
   * strings. Not used when the items carry the engine's text.
   */
  htmlEscape: boolean;
  /** Put the objects in the result's data too (default true; `inspect` of many containers leaves them out). */
  withData?: boolean;
}

/**
 * Go's json.Indent over the engine's raw elements, as `docker inspect` prints them: re-indented by
 * four spaces, key order, string escapes and number text kept as the engine wrote them.
 */
export function indentJson(elements: string[]): string {
  if (elements.length === 0) return '[]';
  const src = `[${elements.join(',')}]`;
  let out = '';
  let depth = 0;
  const nl = () => `\n${'    '.repeat(depth)}`;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (ch === '"') {
      let j = i + 1;
      while (src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j;
      continue;
    }
    if (ch === ' ' || ch === '\n' || ch === '\t' || ch === '\r') continue;
    if (ch === '{' || ch === '[') {
      let k = i + 1;
      while (/\s/.test(src[k])) k++;
      if (src[k] === (ch === '{' ? '}' : ']')) {
        out += ch === '{' ? '{}' : '[]';
        i = k;
        continue;
      }
      depth++;
      out += ch + nl();
      continue;
    }
    if (ch === '}' || ch === ']') {
      depth--;
      out += nl() + ch;
      continue;
    }
    if (ch === ',') {
      out += `,${nl()}`;
      continue;
    }
    if (ch === ':') {
      out += ': ';
      continue;
    }
    out += ch;
  }
  return out;
}

/** Compiles an inspect template the way every inspect verb does: a malformed one exits 64. */
export function compileInspectTemplate(format: string, opts: { missingKeyError?: boolean } = {}): (data: unknown) => string {
  try {
    return compileTemplate(unescapeFormat(format), { rowContext: false, ...opts });
  } catch (err) {
    throw new UsageError((err as Error).message, 64);
  }
}

/**
 * What docker's inspect.Inspect prints for a list of objects: an indented JSON array (or `[]`),
 * or one executed template a line; errors (missing objects, failing templates) go to stderr
 * one a line after the output, with exit code 1. A template that does not parse is exit 64.
 */
export function inspectOutput(items: Inspected[], opts: InspectOptions): JobResult {
  const errors: string[] = [];
  let stdout = '';
  const found = items.flatMap((i) => ('value' in i ? [i] : []));
  if (!opts.format) {
    for (const i of items) if ('error' in i) errors.push(i.error);
    if (found.length === 0) stdout = '[]\n';
    else if (found.every((i) => i.text !== undefined)) stdout = `${indentJson(found.map((i) => i.text as string))}\n`;
    else {
      let json = JSON.stringify(found.map((i) => i.value), null, 4).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
      if (opts.htmlEscape) json = json.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
      stdout = `${json}\n`;
    }
  } else {
    const exec = compileInspectTemplate(opts.format);
    const execRaw = compileInspectTemplate(opts.format, { missingKeyError: true });
    for (const i of items) {
      if ('error' in i) {
        errors.push(i.error);
        continue;
      }
      try {
        stdout += `${exec(i.typed ?? i.value)}\n`;
      } catch (err) {
        if (!i.fallback) {
          errors.push(`template parsing error: ${(err as Error).message}`);
          continue;
        }
        try {
          stdout += `${execRaw(withJsonNumbers(i.value))}\n`;
        } catch (rawErr) {
          errors.push(`template parsing error: ${(rawErr as Error).message}`);
        }
      }
    }
    if (stdout === '') stdout = '\n';
  }
  return {
    exitCode: errors.length ? 1 : 0,
    stdout,
    stderr: errors.map((e) => `${e}\n`).join(''),
    streamed: false,
    truncated: false,
    data: opts.withData === false ? undefined : found.map((i) => i.value),
  };
}
