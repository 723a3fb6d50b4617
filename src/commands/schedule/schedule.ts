import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { UsageError } from '../../errors.js';
import type { RunContext } from '../../jobs/types.js';
import { formatRows } from '../../render/table.js';
import { humanDuration } from '../../render/units.js';
import type { Schedules } from '../../schedules/service.js';

function service(ctx: RunContext): Schedules {
  if (!ctx.schedules) throw new UsageError(`the worker of host ${ctx.host} has no schedules (they are loaded by dockops start and dockops worker from DOCKOPS_JOBS_DIR)`, 1);
  return ctx.schedules;
}

const nameArg = (p: { args: string[] }) => {
  const n = p.args[0]!;
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(n)) throw new UsageError(`"${n}" is not a schedule name (see schedule ls)`, 1);
  return n;
};

export const ScheduleLsSpec = z.object({ kind: z.literal('schedule.ls'), format: z.string().optional() });
export const ScheduleRunSpec = z.object({ kind: z.literal('schedule.run'), name: z.string() });
export const SchedulePauseSpec = z.object({ kind: z.literal('schedule.pause'), name: z.string() });
export const ScheduleResumeSpec = z.object({ kind: z.literal('schedule.resume'), name: z.string() });
export const ScheduleReloadSpec = z.object({ kind: z.literal('schedule.reload') });

const ago = (now: number, t?: number) => (t ? `${humanDuration(now - t)} ago` : 'never');

/** The schedules of jobs/*.yml with their last run, last success and next run. */
export const scheduleLs = defineCommand({
  path: ['schedule', 'ls'],
  aliases: [['schedule', 'list'], ['schedules']],
  usage: '[OPTIONS]',
  summary: 'List schedules (jobs/*.yml) with their last and next runs',
  args: { min: 0, max: 0 },
  flags: [{ name: 'format', type: 'string', valueName: 'string', help: 'Pretty-print schedules using a Go template' }],
  spec: ScheduleLsSpec,
  toSpec: (p) => ({ kind: 'schedule.ls' as const, format: (p.flags.format as string) || undefined }),
  async run(spec, ctx) {
    const now = ctx.now();
    const rows = (await service(ctx).status()).map(({ s, state, paused, next }) => ({
      Name: s.name,
      Schedule: `${s.schedule}${s.tz !== 'UTC' ? ` (${s.tz})` : ''}`,
      Host: s.host,
      Command: s.command,
      State: paused ? 'paused' : state?.lastOk && now - state.lastOk > s.alertAfterMs ? 'overdue' : 'active',
      LastRun: state?.lastRun ? `${ago(now, state.lastRun)} (exit ${state.lastExit ?? '-'})` : 'never',
      LastSuccess: ago(now, state?.lastOk),
      Next: next ? new Date(next).toISOString().replace('.000Z', 'Z') : '-',
    }));
    return ok(
      formatRows(rows, {
        format: spec.format,
        defaultFormat: 'table {{.Name}}\t{{.Schedule}}\t{{.Host}}\t{{.State}}\t{{.LastRun}}\t{{.LastSuccess}}\t{{.Next}}\t{{.Command}}',
        headers: { Name: 'NAME', Schedule: 'SCHEDULE', Host: 'HOST', Command: 'COMMAND', State: 'STATE', LastRun: 'LAST RUN', LastSuccess: 'LAST SUCCESS', Next: 'NEXT RUN' },
      }),
      { count: rows.length },
    );
  },
});

export const scheduleRun = defineCommand({
  path: ['schedule', 'run'],
  usage: 'NAME',
  summary: "Run a schedule's command now",
  args: { min: 1, max: 1 },
  flags: [],
  spec: ScheduleRunSpec,
  toSpec: (p) => ({ kind: 'schedule.run' as const, name: nameArg(p) }),
  async run(spec, ctx) {
    const job = await service(ctx).runNow(spec.name);
    return ok(`${job.id}\n`, { jobId: job.id });
  },
});

export const schedulePause = defineCommand({
  path: ['schedule', 'pause'],
  usage: 'NAME',
  summary: 'Pause a schedule (no runs, no missed-run alerts) until resumed',
  args: { min: 1, max: 1 },
  flags: [],
  spec: SchedulePauseSpec,
  toSpec: (p) => ({ kind: 'schedule.pause' as const, name: nameArg(p) }),
  async run(spec, ctx) {
    await service(ctx).pause(spec.name);
    return ok(`${spec.name}\n`);
  },
});

export const scheduleResume = defineCommand({
  path: ['schedule', 'resume'],
  usage: 'NAME',
  summary: 'Resume a paused schedule',
  args: { min: 1, max: 1 },
  flags: [],
  spec: ScheduleResumeSpec,
  toSpec: (p) => ({ kind: 'schedule.resume' as const, name: nameArg(p) }),
  async run(spec, ctx) {
    await service(ctx).resume(spec.name);
    return ok(`${spec.name}\n`);
  },
});

export const scheduleReload = defineCommand({
  path: ['schedule', 'reload'],
  usage: '',
  summary: 'Read jobs/*.yml again and apply its schedules (as SIGHUP does)',
  args: { min: 0, max: 0 },
  flags: [],
  spec: ScheduleReloadSpec,
  toSpec: () => ({ kind: 'schedule.reload' as const }),
  async run(_spec, ctx) {
    let r: Awaited<ReturnType<Schedules['reload']>>;
    try {
      r = await service(ctx).reload();
    } catch (err) {
      if (err instanceof UsageError) throw err;
      // A mistake in the files changes nothing: the schedules in force stay.
      throw new UsageError(`${(err as Error).message}\nnothing was changed`, 1);
    }
    return ok(`added: ${r.added.join(', ') || 'none'}\nremoved: ${r.removed.join(', ') || 'none'}\nunchanged: ${r.kept.length}\n`, r);
  },
});
