import { z } from 'zod';
import { defineCommand } from '../define.js';
import { UsageError, notFoundOr, toDockerError } from '../../errors.js';
import { demux, demuxBuffer } from '../../docker/streams.js';
import { toEngineTimestamp } from '../../render/time.js';

export const ContainerLogsSpec = z.object({
  kind: z.literal('container.logs'),
  container: z.string().min(1),
  details: z.boolean(),
  follow: z.boolean(),
  /** How long -f follows before the job ends (chat has no Ctrl-C): seconds. */
  forSeconds: z.number().int().positive(),
  since: z.string().optional(),
  until: z.string().optional(),
  tail: z.string(),
  timestamps: z.boolean(),
});
export type ContainerLogsSpec = z.infer<typeof ContainerLogsSpec>;

function timestamp(value: string, flag: string, now: number): string {
  const t = toEngineTimestamp(value, now);
  if (t === undefined) {
    throw new UsageError(`invalid value for "${flag}": failed to parse value as time or duration: "${value}"\nSee 'docker logs --help'.`);
  }
  return t;
}

export const containerLogs = defineCommand({
  path: ['container', 'logs'],
  aliases: [['logs']],
  usage: '[OPTIONS] CONTAINER',
  summary: 'Fetch the logs of a container',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'details', type: 'bool', help: 'Show extra details provided to logs' },
    { name: 'follow', short: 'f', type: 'bool', help: 'Follow log output (for at most --for)' },
    { name: 'for', type: 'string', valueName: 'duration', default: '60s', help: 'How long --follow follows (dockops: chat has no Ctrl-C)' },
    { name: 'since', type: 'string', valueName: 'string', help: 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
    { name: 'tail', short: 'n', type: 'string', valueName: 'string', default: 'all', help: 'Number of lines to show from the end of the logs' },
    { name: 'timestamps', short: 't', type: 'bool', help: 'Show timestamps' },
    { name: 'until', type: 'string', valueName: 'string', help: 'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
  ],
  spec: ContainerLogsSpec,
  toSpec(p, env) {
    const now = env.now();
    const tail = p.flags.tail as string;
    if (tail !== 'all' && !/^-?\d+$/.test(tail)) {
      throw new UsageError(`invalid value for "tail": "${tail}" is not a number or "all"\nSee 'docker logs --help'.`);
    }
    const forText = p.flags.for as string;
    const forMs = /^\d+$/.test(forText) ? Number(forText) * 1000 : toDurationMs(forText);
    if (!forMs || forMs <= 0 || forMs > 3600_000) {
      throw new UsageError(`invalid value for "--for": "${forText}" (a duration up to 1h, e.g. 30s or 5m)\nSee 'docker logs --help'.`);
    }
    return {
      kind: 'container.logs' as const,
      container: p.args[0],
      details: p.flags.details as boolean,
      follow: p.flags.follow as boolean,
      forSeconds: Math.ceil(forMs / 1000),
      since: p.given.has('since') ? timestamp(p.flags.since as string, 'since', now) : undefined,
      until: p.given.has('until') ? timestamp(p.flags.until as string, 'until', now) : undefined,
      tail,
      timestamps: p.flags.timestamps as boolean,
    };
  },
  async run(spec, ctx) {
    const container = ctx.docker.getContainer(spec.container);
    let tty = false;
    try {
      tty = Boolean((await container.inspect({ abortSignal: ctx.signal } as {})).Config?.Tty);
    } catch (err) {
      throw notFoundOr(err, 'container', spec.container);
    }
    const opts = {
      stdout: true,
      stderr: true,
      follow: spec.follow,
      details: spec.details,
      timestamps: spec.timestamps,
      tail: spec.tail === 'all' ? undefined : spec.tail,
      since: spec.since,
      until: spec.until,
    };
    const onFrame = (s: 'stdout' | 'stderr', data: Buffer) => ctx.output(s, data.toString('utf8'));
    if (!spec.follow) {
      let all: Buffer;
      try {
        all = (await container.logs({ ...opts, follow: false, abortSignal: ctx.signal } as {})) as unknown as Buffer;
      } catch (err) {
        throw toDockerError(err);
      }
      if (tty) onFrame('stdout', all);
      else for (const f of demuxBuffer(all)) onFrame(f.stream, f.data);
      return { exitCode: 0, stdout: '', stderr: '', streamed: true, truncated: false };
    }
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await container.logs({ ...opts, follow: true } as any)) as unknown as NodeJS.ReadableStream;
    } catch (err) {
      throw toDockerError(err);
    }
    const push = tty ? (chunk: Buffer) => onFrame('stdout', chunk) : demux(onFrame);
    // Chat has no Ctrl-C: following ends after --for, on cancel, or when the container stops.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => stop(), spec.forSeconds * 1000);
      const stop = () => {
        clearTimeout(timer);
        (stream as unknown as { destroy(): void }).destroy();
        resolve();
      };
      ctx.signal.addEventListener('abort', stop, { once: true });
      stream.on('data', (c: Buffer) => push(c));
      stream.on('end', stop);
      stream.on('error', (e) => {
        clearTimeout(timer);
        reject(toDockerError(e));
      });
    });
    return { exitCode: 0, stdout: '', stderr: '', streamed: true, truncated: false };
  },
});

function toDurationMs(s: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h)$/.exec(s);
  if (!m) return undefined;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}
