import { z } from 'zod';
import { defineCommand } from '../define.js';
import { DockerError, UsageError, toDockerError } from '../../errors.js';
import { compileTemplate, unescapeFormat } from '../../render/go-template.js';
import type { RunContext } from '../../jobs/types.js';

const TYPES = ['container', 'image', 'network', 'volume'] as const;
type ObjectType = (typeof TYPES)[number];

export const ContainerInspectSpec = z.object({
  kind: z.literal('container.inspect'),
  names: z.array(z.string().min(1)).min(1),
  /** Which objects a name may be: `container inspect` and `--type container` only containers. */
  type: z.enum(TYPES).optional(),
  /** `container inspect` words a missing name "No such container", `inspect` "No such object". */
  containerOnly: z.boolean(),
  format: z.string().optional(),
  size: z.boolean(),
});
export type ContainerInspectSpec = z.infer<typeof ContainerInspectSpec>;

/** GET an Engine API path and keep the body as the engine wrote it (key order, big numbers). */
export async function engineRaw(ctx: RunContext, path: string, options: Record<string, unknown> = {}): Promise<string> {
  const modem = ctx.docker.modem as unknown as {
    dial(o: object, cb: (err: unknown, stream: NodeJS.ReadableStream) => void): void;
  };
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
    modem.dial({ path: `${path}?`, method: 'GET', options, isStream: true, abortSignal: ctx.signal, statusCodes: { 200: true, 404: 'no such object', 500: 'server error' } }, (err, s) =>
      err ? reject(err) : resolve(s),
    );
  });
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
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

const PATHS: Record<ObjectType, (name: string) => string> = {
  container: (n) => `/containers/${encodeURIComponent(n)}/json`,
  image: (n) => `/images/${encodeURIComponent(n)}/json`,
  network: (n) => `/networks/${encodeURIComponent(n)}`,
  volume: (n) => `/volumes/${encodeURIComponent(n)}`,
};

/** Not this type: 404, or 400 for a name that is no valid image reference. */
function isNotFound(err: unknown, t: ObjectType): boolean {
  const code = (err as { statusCode?: number })?.statusCode;
  return code === 404 || (code === 400 && t !== 'container');
}

function inspectCommand(path: string[], aliases: string[][] | undefined, containerOnly: boolean) {
  return defineCommand({
    path,
    aliases,
    usage: containerOnly ? '[OPTIONS] CONTAINER [CONTAINER...]' : '[OPTIONS] NAME|ID [NAME|ID...]',
    summary: containerOnly ? 'Display detailed information on one or more containers' : 'Return low-level information on Docker objects',
    args: { min: 1 },
    flags: [
      { name: 'format', short: 'f', type: 'string', valueName: 'string', help: 'Format the output using the given Go template' },
      { name: 'size', short: 's', type: 'bool', help: containerOnly ? 'Display total file sizes' : 'Display total file sizes if the type is container' },
      ...(containerOnly ? [] : [{ name: 'type', type: 'string' as const, valueName: 'string', help: 'Return JSON for specified type' }]),
    ],
    spec: ContainerInspectSpec,
    toSpec(p) {
      const type = containerOnly ? 'container' : (p.flags.type as string) || undefined;
      if (type !== undefined && !(TYPES as readonly string[]).includes(type)) {
        throw new UsageError(`"${type}" is not a valid value for --type`, 1);
      }
      const format = (p.flags.format as string) || undefined;
      if (format) {
        try {
          compileTemplate(unescapeFormat(format), { rowContext: false });
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
      }
      return {
        kind: 'container.inspect' as const,
        names: p.args,
        type: type as ObjectType | undefined,
        containerOnly,
        format,
        size: p.flags.size as boolean,
      };
    },
    async run(spec, ctx) {
      const types: readonly ObjectType[] = spec.type ? [spec.type] : TYPES;
      const render = spec.format ? compileTemplate(unescapeFormat(spec.format), { rowContext: false }) : undefined;
      const found: string[] = [];
      let stdout = '';
      const errors: string[] = [];
      for (const name of spec.names) {
        let raw: string | undefined;
        for (const t of types) {
          try {
            raw = await engineRaw(ctx, PATHS[t](name), t === 'container' && spec.size ? { size: true } : {});
            break;
          } catch (err) {
            if (!isNotFound(err, t)) throw toDockerError(err);
          }
        }
        if (raw === undefined) {
          const what = spec.containerOnly ? 'container' : spec.type ?? 'object';
          errors.push(`Error: No such ${what}: ${name}`);
          continue;
        }
        if (render) {
          try {
            stdout += `${render(JSON.parse(raw))}\n`;
          } catch (err) {
            throw new DockerError((err as Error).message, 1);
          }
        } else found.push(raw);
      }
      if (!render) stdout = `${indentJson(found)}\n`;
      const stderr = errors.map((e) => `${e}\n`).join('');
      return { exitCode: errors.length ? 1 : 0, stdout, stderr, streamed: false, truncated: false };
    },
  });
}

export const containerInspect = inspectCommand(['container', 'inspect'], undefined, true);
export const inspect = inspectCommand(['inspect'], undefined, false);
