import { z } from 'zod';
import { defineCommand } from '../define.js';
import { UsageError, toDockerError } from '../../errors.js';
import { compileInspectTemplate, inspectOutput, type Inspected } from '../../render/inspect-output.js';
import { typedContainer, typedImage, typedNetwork, typedVolume } from '../../render/docker-types.js';
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

export { indentJson } from '../../render/inspect-output.js';

/** The Go type docker's templates see for each kind of object. */
const TYPED: Record<ObjectType, (raw: unknown) => unknown> = {
  container: typedContainer,
  image: typedImage,
  network: typedNetwork,
  volume: typedVolume,
};

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
      // A template that does not parse is refused at once, with docker's exit code 64.
      if (format) compileInspectTemplate(format);
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
      const items: Inspected[] = [];
      for (const name of spec.names) {
        let found: { text: string; type: ObjectType } | undefined;
        for (const t of types) {
          try {
            found = { text: await engineRaw(ctx, PATHS[t](name), t === 'container' && spec.size ? { size: true } : {}), type: t };
            break;
          } catch (err) {
            if (!isNotFound(err, t)) throw toDockerError(err);
          }
        }
        if (!found) {
          const what = spec.containerOnly ? 'container' : spec.type ?? 'object';
          items.push({ error: `Error: No such ${what}: ${name}` });
          continue;
        }
        if (!spec.format) {
          // The default output is the engine's bytes, re-indented: nothing to decode.
          items.push({ value: null, text: found.text });
          continue;
        }
        const value: unknown = JSON.parse(found.text);
        // docker's inspect has both the typed value and the raw bytes of every kind of object.
        items.push({ value, text: found.text, typed: TYPED[found.type](value), fallback: true });
      }
      return inspectOutput(items, { format: spec.format, htmlEscape: false, withData: false });
    },
  });
}

export const containerInspect = inspectCommand(['container', 'inspect'], undefined, true);
export const inspect = inspectCommand(['inspect'], undefined, false);
