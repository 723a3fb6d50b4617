import { compileTemplate, unescapeFormat } from './go-template.js';
import { UsageError } from '../errors.js';
import type { JobResult } from '../jobs/types.js';

/** One looked-up object of an inspect verb, or the error docker prints for it. */
export type Inspected = { value: unknown } | { error: string };

export interface InspectOptions {
  /** -f/--format; empty means docker's indented JSON array. */
  format?: string;
  /**
   * The CLI re-marshals a typed struct (volumes): json.Marshal escapes <, > and & in strings.
   * false for objects printed from the engine's raw bytes (networks).
   */
  htmlEscape: boolean;
  /** Rewrites a template error into the wording docker's own data types give. */
  execError?: (message: string) => string;
}

/**
 * What docker's inspect.Inspect prints for a list of objects: an indented JSON array (or `[]`),
 * or one executed template a line; errors (missing objects, failing templates) go to stderr
 * one a line after the output, with exit code 1. A template that does not parse is exit 64.
 */
export function inspectOutput(items: Inspected[], opts: InspectOptions): JobResult {
  const errors: string[] = [];
  let stdout = '';
  if (!opts.format) {
    const values = items.flatMap((i) => ('value' in i ? [i.value] : []));
    for (const i of items) if ('error' in i) errors.push(i.error);
    if (values.length === 0) stdout = '[]\n';
    else {
      let json = JSON.stringify(values, null, 4).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
      if (opts.htmlEscape) json = json.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
      stdout = `${json}\n`;
    }
  } else {
    let exec: (data: unknown) => string;
    try {
      exec = compileTemplate(unescapeFormat(opts.format), { rowContext: false });
    } catch (err) {
      throw new UsageError((err as Error).message, 64);
    }
    for (const i of items) {
      if ('error' in i) {
        errors.push(i.error);
        continue;
      }
      try {
        stdout += `${exec(i.value)}\n`;
      } catch (err) {
        const msg = (err as Error).message;
        errors.push(`template parsing error: ${opts.execError ? opts.execError(msg) : msg}`);
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
    data: items.flatMap((i) => ('value' in i ? [i.value] : [])),
  };
}
