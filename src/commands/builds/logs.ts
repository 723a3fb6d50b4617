import { z } from 'zod';
import { defineCommand } from '../define.js';
import { DockopsError, UsageError } from '../../errors.js';
import { readSuperseded } from '../../builds/records.js';
import type { JobData } from '../../jobs/queue.js';

export const BuildsLogsSpec = z.object({
  kind: z.literal('builds.logs'),
  id: z.string().min(1).max(200),
  /** Last lines only; undefined: all of it. */
  tail: z.number().int().min(0).optional(),
});
export type BuildsLogsSpec = z.infer<typeof BuildsLogsSpec>;

/** The last `n` lines of a text (whole lines, as `docker logs --tail` counts them). */
function lastLines(text: string, n: number): string {
  if (n === 0) return '';
  const lines = text.split(/(?<=\n)/);
  return lines.slice(-n).join('');
}

/** A build's whole output: the build steps, the pushes, the redeploy, and why it ended. */
export const buildsLogs = defineCommand({
  path: ['builds', 'logs'],
  usage: '[OPTIONS] BUILD-ID',
  summary: 'Show the log of a build (its ID is in `builds ls` and the build message)',
  args: { min: 1, max: 1 },
  flags: [{ name: 'tail', short: 'n', type: 'string', valueName: 'string', default: 'all', help: 'Number of lines to show from the end of the log' }],
  spec: BuildsLogsSpec,
  toSpec(p) {
    const raw = String(p.flags.tail);
    let tail: number | undefined;
    if (raw !== 'all') {
      tail = Number(raw);
      if (!Number.isInteger(tail) || tail < 0) throw new UsageError(`invalid argument "${raw}" for "-n, --tail" flag: a number of lines or "all"\nSee 'docker builds logs --help'.`);
    }
    return { kind: 'builds.logs' as const, id: p.args[0], tail };
  },
  async run(spec, ctx) {
    const job = await ctx.jobs.get(spec.id).catch(() => undefined);
    if (!job || (job.data as JobData).spec?.kind !== 'autobuild') {
      const sup = await readSuperseded(ctx.redis, ctx.prefix, spec.id);
      if (sup) {
        ctx.output('stderr', `build ${spec.id} never ran: superseded by ${sup.by} (job ${sup.byJob}) while queued\n`);
        return { exitCode: 0, stdout: '', stderr: '', streamed: true, truncated: false };
      }
      throw new DockopsError(`Error: No such build: ${spec.id}`, 'not_found', 1);
    }
    const { entries } = await ctx.jobs.logs(spec.id, 0);
    const kept = entries.filter((e) => e.s !== 'progress');
    let out = kept;
    if (spec.tail !== undefined) {
      // Count lines over both streams together, as they were written.
      const joined = kept.map((e) => e.t).join('');
      let skip = joined.length - lastLines(joined, spec.tail).length;
      out = [];
      for (const e of kept) {
        if (skip >= e.t.length) {
          skip -= e.t.length;
          continue;
        }
        out.push({ s: e.s, t: e.t.slice(skip) });
        skip = 0;
      }
    }
    for (const e of out) ctx.output(e.s as 'stdout' | 'stderr', e.t);
    const state = await job.getState();
    if (state === 'failed' && job.failedReason) ctx.output('stderr', `build ${state}: ${job.failedReason}\n`);
    return { exitCode: 0, stdout: '', stderr: '', streamed: true, truncated: false, data: { id: spec.id, state } };
  },
});
