import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { JobQueues, type JobData } from '../jobs/queue.js';
import { UsageError } from '../errors.js';
import type { Schedule } from './file.js';

/** What dockops remembers of a schedule between runs (a Redis hash, one JSON value per name). */
export interface ScheduleState {
  /** When dockops first saw the schedule (the missed-run clock starts there). */
  since: number;
  lastRun?: number;
  lastJob?: string;
  lastExit?: number;
  lastOk?: number;
  alertedAt?: number;
}

const schedulerId = (s: Pick<Schedule, 'host' | 'name'>) => `${s.host}.schedule-${s.name}`;
const stateKey = (prefix: string) => `${prefix}:schedules:state`;
const pausedKey = (prefix: string) => `${prefix}:schedules:paused`;

export async function readState(redis: Redis, prefix: string, name: string): Promise<ScheduleState | undefined> {
  const raw = await redis.hget(stateKey(prefix), name);
  return raw ? (JSON.parse(raw) as ScheduleState) : undefined;
}

async function writeState(redis: Redis, prefix: string, name: string, s: ScheduleState) {
  await redis.hset(stateKey(prefix), name, JSON.stringify(s));
}

/** Records how a scheduled job ended (called by the worker when a job of origin `schedule` finishes). */
export async function recordScheduleOutcome(redis: Redis, prefix: string, name: string, at: number, jobId: string, exitCode: number | undefined) {
  const s = (await readState(redis, prefix, name)) ?? { since: at };
  s.lastRun = at;
  s.lastJob = jobId;
  s.lastExit = exitCode;
  if (exitCode === 0) s.lastOk = at;
  await writeState(redis, prefix, name, s);
}

/**
 * The schedules of jobs/*.yml as BullMQ job schedulers (one per schedule, on its host's queue).
 * Paused ones have no scheduler; `sync` makes Redis match the files and the paused set.
 */
export class Schedules {
  private jobs: JobQueues;
  constructor(
    private redis: Redis,
    private prefix: string,
    private hosts: string[],
    private load: () => Schedule[],
    private log: Logger,
    private now: () => number = Date.now,
  ) {
    this.jobs = new JobQueues(redis, prefix, hosts);
  }

  private defs: Schedule[] = [];

  /** Reads the files again (throws with file:line on a mistake, changing nothing) and applies them. */
  async reload(): Promise<{ added: string[]; removed: string[]; kept: string[] }> {
    const next = this.load();
    this.defs = next;
    return this.sync();
  }

  get list(): Schedule[] {
    return this.defs;
  }

  private find(name: string): Schedule {
    const s = this.defs.find((x) => x.name === name);
    if (!s) throw new UsageError(`no schedule "${name}" (see schedule ls; schedules live in jobs/*.yml)`, 1);
    return s;
  }

  private template(s: Schedule): JobData {
    return { spec: s.spec, origin: { door: 'schedule', name: s.name }, host: s.host, command: s.command, submittedAt: this.now() };
  }

  async sync(): Promise<{ added: string[]; removed: string[]; kept: string[] }> {
    const paused = new Set(await this.redis.smembers(pausedKey(this.prefix)));
    const wanted = new Map(this.defs.filter((s) => !paused.has(s.name)).map((s) => [schedulerId(s), s]));
    const added: string[] = [];
    const removed: string[] = [];
    const kept: string[] = [];
    for (const host of this.hosts) {
      const q = this.jobs.queue(host);
      for (const j of await q.getJobSchedulers()) {
        const id = j.key;
        if (!id.startsWith(`${host}.schedule-`)) continue;
        const s = wanted.get(id);
        if (!s) {
          await q.removeJobScheduler(id);
          removed.push(id.slice(`${host}.schedule-`.length));
        } else if (j.pattern === s.schedule && (j.tz ?? 'UTC') === s.tz && (j.template?.data as JobData | undefined)?.command === s.command) {
          kept.push(s.name);
          wanted.delete(id);
        }
      }
    }
    for (const [id, s] of wanted) {
      await this.jobs.queue(s.host).upsertJobScheduler(id, { pattern: s.schedule, tz: s.tz }, { name: s.spec.kind, data: this.template(s), opts: { attempts: 1, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } } });
      if (!(await readState(this.redis, this.prefix, s.name))) await writeState(this.redis, this.prefix, s.name, { since: this.now() });
      added.push(s.name);
    }
    this.log.info({ added, removed, kept: kept.length }, 'schedules applied');
    return { added, removed, kept };
  }

  async pause(name: string) {
    this.find(name);
    await this.redis.sadd(pausedKey(this.prefix), name);
    await this.sync();
  }

  async resume(name: string) {
    this.find(name);
    await this.redis.srem(pausedKey(this.prefix), name);
    // The missed-run clock starts again from now.
    const st = (await readState(this.redis, this.prefix, name)) ?? { since: this.now() };
    st.since = this.now();
    st.alertedAt = undefined;
    await writeState(this.redis, this.prefix, name, st);
    await this.sync();
  }

  /** Runs a schedule's command now, as the schedule would. */
  async runNow(name: string) {
    const s = this.find(name);
    return this.jobs.enqueue({ spec: s.spec, origin: { door: 'schedule', name: s.name }, host: s.host, command: s.command });
  }

  /** Every schedule with its state and next run. */
  async status() {
    const paused = new Set(await this.redis.smembers(pausedKey(this.prefix)));
    const rows = [];
    for (const s of this.defs) {
      const st = await readState(this.redis, this.prefix, s.name);
      const j = paused.has(s.name) ? undefined : await this.jobs.queue(s.host).getJobScheduler(schedulerId(s));
      rows.push({ s, state: st, paused: paused.has(s.name), next: j?.next });
    }
    return rows;
  }

  /** Schedules that have not succeeded within their alert time and were not alerted for yet; marks them alerted. */
  async overdue(): Promise<{ s: Schedule; state: ScheduleState }[]> {
    const now = this.now();
    const paused = new Set(await this.redis.smembers(pausedKey(this.prefix)));
    const late: { s: Schedule; state: ScheduleState }[] = [];
    for (const s of this.defs) {
      if (paused.has(s.name)) continue;
      const st = (await readState(this.redis, this.prefix, s.name)) ?? { since: now };
      const ref = Math.max(st.lastOk ?? 0, st.since);
      if (now - ref <= s.alertAfterMs || (st.alertedAt ?? 0) >= ref) continue;
      // Several API processes check: one alert per schedule and outage.
      const won = await this.redis.set(`${this.prefix}:schedules:alert:${s.name}:${ref}`, '1', 'PX', Math.max(s.alertAfterMs * 4, 60_000), 'NX');
      if (won !== 'OK') continue;
      st.alertedAt = now;
      await writeState(this.redis, this.prefix, s.name, st);
      late.push({ s, state: st });
    }
    return late;
  }

  async close() {
    await this.jobs.close();
  }
}
