import { z } from 'zod';
import { defineCommand } from '../define.js';
import { UsageError, toDockerError } from '../../errors.js';
import { compileTemplate, parseFormat, unescapeFormat } from '../../render/go-template.js';
import { parseGoDuration, toEngineTimestamp } from '../../render/time.js';

export const SystemEventsSpec = z.object({
  kind: z.literal('system.events'),
  since: z.string().optional(),
  until: z.string().optional(),
  filters: z.record(z.string(), z.array(z.string())),
  format: z.string().optional(),
  /** How long the job follows new events (chat has no Ctrl-C): seconds. */
  forSeconds: z.number().int().positive().max(600),
});
export type SystemEventsSpec = z.infer<typeof SystemEventsSpec>;

interface EventMessage {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
}

/** Go's time.Format(RFC3339NanoFixed) in UTC of a nanosecond timestamp kept as text (it exceeds 2^53). */
export function rfc3339NanoFixed(timeNano: string): string {
  const padded = timeNano.padStart(10, '0');
  const secs = Number(padded.slice(0, -9));
  const iso = new Date(secs * 1000).toISOString();
  return `${iso.slice(0, 19)}.${padded.slice(-9)}Z`;
}

/**
 * docker's prettyPrintEvent: `TIME TYPE ACTION ACTOR-ID (k=v, …)`, attributes sorted by key.
 * `line` is the engine's JSON text, read for timeNano's exact digits.
 */
export function eventLine(e: EventMessage, line: string): string {
  const nano = /"timeNano":(\d+)/.exec(line)?.[1] ?? (e.time ? `${e.time}000000000` : undefined);
  let out = nano ? `${rfc3339NanoFixed(nano)} ` : '';
  out += `${e.Type ?? ''} ${e.Action ?? ''} ${e.Actor?.ID ?? ''}`;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (keys.length) out += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return `${out}\n`;
}

/** The engine's message with the Go field names docker's templates see (.Status .ID .From .Scope .TimeNano). */
function templateValue(raw: Record<string, unknown>, line: string): Record<string, unknown> {
  const alias: Record<string, unknown> = {
    Status: raw.status ?? '',
    ID: raw.id ?? '',
    From: raw.from ?? '',
    Scope: raw.scope ?? '',
    Time: raw.time ?? 0,
    TimeNano: BigInt(/"timeNano":(\d+)/.exec(line)?.[1] ?? '0'),
  };
  for (const [k, v] of Object.entries(alias)) Object.defineProperty(raw, k, { value: v, enumerable: false });
  return raw;
}

function fail(msg: string, exitCode = 125): never {
  throw new UsageError(`${msg}${exitCode === 125 ? "\nSee 'docker events --help'." : ''}`, exitCode);
}

export const systemEvents = defineCommand({
  path: ['system', 'events'],
  aliases: [['events']],
  usage: '[OPTIONS]',
  summary: 'Get real time events from the server',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: 'Filter output based on conditions provided' },
    { name: 'for', type: 'string', valueName: 'duration', default: '10s', help: 'How long to follow new events when --until is not given, at most 10m (dockops: chat has no Ctrl-C)' },
    { name: 'format', type: 'string', valueName: 'string', help: 'Format the output using the given Go template' },
    { name: 'since', type: 'string', valueName: 'string', help: 'Show all events created since timestamp' },
    { name: 'until', type: 'string', valueName: 'string', help: 'Stream events until this timestamp' },
  ],
  spec: SystemEventsSpec,
  toSpec(p, env) {
    const now = env.now();
    const time = (name: string): string | undefined => {
      if (!p.given.has(name)) return undefined;
      const v = p.flags[name] as string;
      const t = toEngineTimestamp(v, now);
      // The docker client's own check (timetypes.GetTimestamp), exit 1.
      if (t === undefined) fail(`failed to parse value as time or duration: "${v}"`, 1);
      return t;
    };
    const filters: Record<string, string[]> = {};
    for (const f of p.flags.filter as string[]) {
      const eq = f.indexOf('=');
      if (eq <= 0) fail('bad format of filter (expected name=value)');
      (filters[f.slice(0, eq).trim().toLowerCase()] ??= []).push(f.slice(eq + 1).trim());
    }
    const forText = p.flags.for as string;
    const forMs = /^\d+$/.test(forText) ? Number(forText) * 1000 : parseGoDuration(forText);
    if (!forMs || forMs <= 0 || forMs > 600_000) fail(`invalid value for "--for": "${forText}" (a duration up to 10m, e.g. 30s or 5m)`);
    return {
      kind: 'system.events' as const,
      since: time('since'),
      until: time('until'),
      filters,
      format: (p.flags.format as string) || undefined,
      forSeconds: Math.ceil(forMs / 1000),
    };
  },
  async run(spec, ctx) {
    let render: (raw: Record<string, unknown>, line: string) => string;
    const format = spec.format;
    if (!format) render = (raw, line) => eventLine(raw as EventMessage, line);
    else if (/^\{\{\s*json\s+\.\s*\}\}$/.test(format.trim())) {
      // The engine's JSON is docker's own encoding of the same struct: print it as it came.
      render = (_raw, line) => `${line}\n`;
    } else {
      let exec: (d: unknown) => string;
      try {
        exec = compileTemplate(parseFormat(unescapeFormat(format)).template);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      render = (raw, line) => `${exec(templateValue(raw, line))}\n`;
    }
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await ctx.docker.getEvents({
        since: spec.since,
        until: spec.until,
        filters: Object.keys(spec.filters).length ? JSON.stringify(spec.filters) : undefined,
        abortSignal: ctx.signal,
      } as {})) as unknown as NodeJS.ReadableStream;
    } catch (err) {
      throw toDockerError(err);
    }
    let pending = '';
    let failure: Error | undefined;
    const onLine = (line: string) => {
      if (!line.trim()) return;
      try {
        ctx.output('stdout', render(JSON.parse(line) as Record<string, unknown>, line));
      } catch (err) {
        failure ??= err instanceof UsageError ? err : new UsageError((err as Error).message);
      }
    };
    // Chat has no Ctrl-C: the job ends when the engine ends the stream (--until), after --for, or on cancel.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => stop(), spec.forSeconds * 1000);
      const stop = () => {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', stop);
        (stream as unknown as { destroy(): void }).destroy();
        resolve();
      };
      ctx.signal.addEventListener('abort', stop, { once: true });
      stream.on('data', (c: Buffer) => {
        pending += c.toString('utf8');
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          onLine(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
        }
        if (failure) stop();
      });
      stream.on('end', () => {
        onLine(pending);
        stop();
      });
      stream.on('error', (e) => {
        clearTimeout(timer);
        if (ctx.signal.aborted) resolve();
        else reject(toDockerError(e));
      });
    });
    if (failure) throw failure;
    return { exitCode: 0, stdout: '', stderr: '', streamed: true, truncated: false };
  },
});
