import { z } from 'zod';
import { defineCommand } from '../define.js';
import { DockerError, UnavailableError, notFoundOr } from '../../errors.js';
import { compileTemplate, unescapeFormat } from '../../render/go-template.js';

export const ImageInspectSpec = z.object({
  kind: z.literal('image.inspect'),
  images: z.array(z.string().min(1)).min(1),
  format: z.string().optional(),
});
export type ImageInspectSpec = z.infer<typeof ImageInspectSpec>;

/*
 * docker's TemplateInspector runs --format over the typed Go value (types.ImageInspect) and, if
 * that fails, over the raw JSON decoded into maps. The typed value matters for what prints:
 * `{{.RootFS}}` is a struct ("{layers [sha256:…] }"), `{{.ID}}` exists while the JSON says "Id".
 * The shapes below are those of the Engine API 1.41 Go types, fields in declaration order.
 */
type Kind = 'string' | 'bool' | 'int' | 'slice' | 'map' | 'time' | 'any' | { ptr: Shape } | { struct: Shape };
interface Shape {
  name: string;
  fields: [goName: string, kind: Kind, jsonName?: string][];
}

const HEALTH: Shape = {
  name: 'container.HealthConfig',
  fields: [['Test', 'slice'], ['Interval', 'int'], ['Timeout', 'int'], ['StartPeriod', 'int'], ['Retries', 'int']],
};
const CONFIG: Shape = {
  name: 'container.Config',
  fields: [
    ['Hostname', 'string'], ['Domainname', 'string'], ['User', 'string'], ['AttachStdin', 'bool'], ['AttachStdout', 'bool'],
    ['AttachStderr', 'bool'], ['ExposedPorts', 'map'], ['Tty', 'bool'], ['OpenStdin', 'bool'], ['StdinOnce', 'bool'],
    ['Env', 'slice'], ['Cmd', 'slice'], ['Healthcheck', { ptr: HEALTH }], ['ArgsEscaped', 'bool'], ['Image', 'string'],
    ['Volumes', 'map'], ['WorkingDir', 'string'], ['Entrypoint', 'slice'], ['NetworkDisabled', 'bool'], ['MacAddress', 'string'],
    ['OnBuild', 'slice'], ['Labels', 'map'], ['StopSignal', 'string'], ['StopTimeout', 'any'], ['Shell', 'slice'],
  ],
};
const IMAGE: Shape = {
  name: 'types.ImageInspect',
  fields: [
    ['ID', 'string', 'Id'], ['RepoTags', 'slice'], ['RepoDigests', 'slice'], ['Parent', 'string'], ['Comment', 'string'],
    ['Created', 'string'], ['Container', 'string'], ['ContainerConfig', { ptr: CONFIG }], ['DockerVersion', 'string'],
    ['Author', 'string'], ['Config', { ptr: CONFIG }], ['Architecture', 'string'], ['Variant', 'string'], ['Os', 'string'],
    ['OsVersion', 'string'], ['Size', 'int'], ['VirtualSize', 'int'],
    ['GraphDriver', { struct: { name: 'types.GraphDriverData', fields: [['Data', 'map'], ['Name', 'string']] } }],
    ['RootFS', { struct: { name: 'types.RootFS', fields: [['Type', 'string'], ['Layers', 'slice'], ['BaseLayer', 'string']] } }],
    ['Metadata', { struct: { name: 'types.ImageMetadata', fields: [['LastTagTime', 'time']] } }],
  ],
};

/** A Go time.Time as fmt prints it: "2026-11-29 06:25:33.063963493 +0000 UTC". */
class GoTime {
  constructor(private readonly iso: string) {}
  toString(): string {
    const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(this.iso);
    if (!m) return this.iso;
    const frac = (m[3] ?? '').replace(/\.?0+$/, '');
    const zone = m[4] === 'Z' ? '+0000 UTC' : `${m[4].replace(':', '')} ${m[4].replace(':', '')}`;
    return `${m[1]} ${m[2]}${frac} ${zone}`;
  }
  toJSON(): string {
    return this.iso;
  }
}

/** A Go map (nil when the JSON had null): prints `map[k:v]`, marshals back to what the engine sent. */
class GoMap extends Map<string, unknown> {
  constructor(entries: [string, unknown][], private readonly nil: boolean) {
    super(entries);
  }
  toJSON(): unknown {
    return this.nil ? null : Object.fromEntries(this);
  }
}

/** A Go struct value: fields in order, printed `{a b c}` as fmt's %v does. */
class GoStruct {
  constructor(fields: [string, unknown][], raw: unknown) {
    for (const [k, v] of fields) Object.defineProperty(this, k, { value: v, enumerable: true });
    Object.defineProperty(this, '__raw', { value: raw, enumerable: false });
  }
  toString(): string {
    return `{${Object.values(this).map(inner).join(' ')}}`;
  }
  toJSON(): unknown {
    return (this as unknown as { __raw: unknown }).__raw;
  }
}

/** fmt's %v of a value nested in a struct: nil pointers print <nil>, others as the template prints them. */
function inner(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(inner).join(' ')}]`;
  if (v instanceof Map) {
    const parts = [...v.entries()].map(([k, x]) => `${k}:${inner(x)}`).sort();
    return `map[${parts.join(' ')}]`;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return '{}';
  return String(v);
}

function typed(kind: Kind, raw: unknown): unknown {
  if (kind === 'string') return typeof raw === 'string' ? raw : '';
  if (kind === 'bool') return raw === true;
  if (kind === 'int') return typeof raw === 'number' ? raw : 0;
  if (kind === 'time') return new GoTime(typeof raw === 'string' ? raw : '0001-01-01T00:00:00Z');
  if (kind === 'any') return raw ?? null;
  if (kind === 'slice') {
    const arr = Array.isArray(raw) ? [...raw] : [];
    if (!Array.isArray(raw)) Object.defineProperty(arr, 'toJSON', { value: () => null });
    return arr;
  }
  if (kind === 'map') {
    const obj = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
    // map[string]struct{} values (ExposedPorts, Volumes) are `{}` in JSON and print as {}.
    const entries = Object.entries(obj).map(([k, v]): [string, unknown] => [k, v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 ? new GoStruct([], v) : v]);
    return new GoMap(entries, !raw);
  }
  if ('ptr' in kind) return raw && typeof raw === 'object' ? structOf(kind.ptr, raw) : null;
  return structOf(kind.struct, raw && typeof raw === 'object' ? raw : {});
}

function structOf(shape: Shape, raw: unknown): GoStruct {
  const obj = raw as Record<string, unknown>;
  return new GoStruct(shape.fields.map(([name, kind, json]) => [name, typed(kind, obj[json ?? name])]), raw);
}

/** The typed view of an image's inspect JSON that docker's --format sees first. */
export function typedImage(raw: unknown): unknown {
  return structOf(IMAGE, raw);
}

/**
 * The engine's JSON re-encoded as its Go encoder wrote it (SetEscapeHTML(false): only U+2028/U+2029
 * are escaped) and indented
 * like json.Indent(…, "", "    "), which is how docker prints inspect output.
 */
export function indentJson(values: unknown[]): string {
  if (values.length === 0) return '[]\n';
  const s = JSON.stringify(values, null, 4).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${s}\n`;
}

// Go's map lookup with missingkey=error words a missing key differently from a struct field.
function rawMessage(msg: string): string {
  return msg.replace(/can't evaluate field (\S+) in type map\[string\]interface \{\}/, 'map has no entry for key "$1"');
}

export const imageInspect = defineCommand({
  path: ['image', 'inspect'],
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Display detailed information on one or more images',
  args: { min: 1 },
  flags: [{ name: 'format', short: 'f', type: 'string', valueName: 'string', help: 'Format the output using the given Go template' }],
  spec: ImageInspectSpec,
  toSpec(p) {
    return { kind: 'image.inspect' as const, images: [...p.args], format: (p.flags.format as string) || undefined };
  },
  async run(spec, ctx) {
    let exec: ((data: unknown) => string) | undefined;
    if (spec.format) {
      try {
        exec = compileTemplate(unescapeFormat(spec.format), { rowContext: false });
      } catch (err) {
        // docker exits 64 for a template that does not parse.
        throw new DockerError((err as Error).message, 64);
      }
    }
    const raws: unknown[] = [];
    const errs: string[] = [];
    let out = '';
    for (const image of spec.images) {
      let raw: unknown;
      try {
        raw = await ctx.docker.getImage(image).inspect({ abortSignal: ctx.signal } as {});
      } catch (err) {
        const e = notFoundOr(err, 'image', image);
        if (e instanceof UnavailableError) throw e;
        errs.push(e.message);
        continue;
      }
      raws.push(raw);
      if (!exec) continue;
      try {
        out += `${exec(typedImage(raw))}\n`;
      } catch {
        try {
          out += `${exec(raw)}\n`;
        } catch (err) {
          errs.push(`template parsing error: ${rawMessage((err as Error).message)}`);
        }
      }
    }
    // With a template docker prints an empty line when nothing came out; without, "[]".
    const stdout = exec ? out || '\n' : indentJson(raws);
    return { exitCode: errs.length ? 1 : 0, stdout, stderr: errs.length ? `${errs.join('\n')}\n` : '', streamed: false, truncated: false, data: raws };
  },
});
