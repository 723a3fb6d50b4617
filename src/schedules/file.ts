import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { readYamlDir } from '../yaml-where.js';
import { parseCommand, type JobSpec } from '../commands/index.js';
import { parseAge } from '../backup/retention.js';

/** One entry of `schedules:` in jobs/*.yml. */
export const ScheduleEntry = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, - and _ (up to 64)'),
    /** Cron: 5 fields, or 6 with seconds first. */
    schedule: z.string().min(1),
    /** IANA time zone of the cron fields (default UTC). */
    tz: z.string().default('UTC'),
    /** A dockops command, as typed after /docker. */
    command: z.string().min(1),
    /** Docker host (default DOCKOPS_DEFAULT_HOST). */
    host: z.string().optional(),
    /** Slack channel ID for reports and alerts (default DOCKOPS_ALERT_CHANNEL). */
    slack_channel: z.string().optional(),
    /** Alert when no run has succeeded for this long (default: twice the interval). */
    alert_after: z.string().optional(),
  })
  .strict();
export type ScheduleEntry = z.infer<typeof ScheduleEntry>;

/** A schedule checked and ready: its spec parsed, its interval known. */
export interface Schedule extends ScheduleEntry {
  spec: JobSpec;
  host: string;
  /** The time between two runs (the first two after now), for the missed-run alert. */
  intervalMs: number;
  alertAfterMs: number;
}

const File = z.object({ schedules: z.array(ScheduleEntry).default([]) }).passthrough();

/** Checks a cron pattern; returns the interval between its next two runs. */
export function cronInterval(pattern: string, tz: string, now = Date.now()): number {
  const e = CronExpressionParser.parse(pattern, { tz, currentDate: new Date(now) });
  const a = e.next().getTime();
  const b = e.next().getTime();
  return b - a;
}

/**
 * Reads `schedules:` from every jobs/*.yml. Every mistake is reported with its file and line: a bad
 * cron, an unknown time zone, a command that does not parse, an unknown host, a name used twice.
 */
export function loadSchedules(dir: string, hosts: string[], defaultHost: string): Schedule[] {
  const out: Schedule[] = [];
  readYamlDir(dir, File, 'invalid schedules', (data, whereIn, problems) => {
    data.schedules.forEach((s, i) => {
      const where = (key: string) => `  ${whereIn(['schedules', i, key])}: schedules.${i}.${key}`;
      const host = s.host ?? defaultHost;
      if (!hosts.includes(host)) return problems.push(`${where('host')}: "${host}" is not one of DOCKOPS_DOCKER_HOSTS (${hosts.join(', ')})`);
      let intervalMs: number;
      try {
        intervalMs = cronInterval(s.schedule, s.tz);
      } catch (err) {
        return problems.push(`${where(/time ?zone|tz/i.test((err as Error).message) ? 'tz' : 'schedule')}: ${(err as Error).message}`);
      }
      let spec: JobSpec;
      try {
        const o = parseCommand(s.command);
        if (o.type !== 'spec') return problems.push(`${where('command')}: "${s.command}" asks for help, not a job`);
        if (o.host && o.host !== host) return problems.push(`${where('command')}: --host in the command; use the host: field`);
        spec = o.spec;
      } catch (err) {
        return problems.push(`${where('command')}: ${(err as Error).message.split('\n')[0]}`);
      }
      let alertAfterMs = 2 * intervalMs;
      if (s.alert_after) {
        const ms = parseAge(s.alert_after);
        if (!ms) return problems.push(`${where('alert_after')}: "${s.alert_after}" is not a duration (48h, 2d)`);
        alertAfterMs = ms;
      }
      if (out.some((x) => x.name === s.name)) return problems.push(`${where('name')}: "${s.name}" is used twice`);
      out.push({ ...s, host, spec, intervalMs, alertAfterMs });
    });
  });
  return out;
}
