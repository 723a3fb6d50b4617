import { createHash, randomUUID } from 'node:crypto';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { JobSpec } from '../commands/index.js';
import { Origin, JobResult, type LogEntry } from './types.js';

/** What a BullMQ job carries: the spec, who asked, the target host, and the text as typed. */
export const JobData = z.object({
  spec: JobSpec,
  origin: Origin,
  host: z.string(),
  command: z.string(),
  submittedAt: z.number(),
});
export type JobData = z.infer<typeof JobData>;

/** BullMQ queue of one Docker host. Each host has its own, so a slow host never blocks another. */
export function queueName(host: string): string {
  return `jobs-${host}`;
}

/**
 * Job IDs carry their host (`local.3f2a…`), so any process can find a job's queue from its ID
 * alone. Host names cannot contain a dot (config.ts), so the split is unambiguous.
 */
export function jobId(host: string, key: string): string {
  return `${host}.${key}`;
}

export function hostOfJobId(id: string): string | undefined {
  // A schedule's jobs are named by BullMQ: `repeat:<host>.schedule-<name>:<millis>`.
  if (id.startsWith('repeat:')) id = id.slice('repeat:'.length);
  const dot = id.indexOf('.');
  return dot > 0 ? id.slice(0, dot) : undefined;
}

/** An idempotency key as given by a door, made safe for a BullMQ job ID (no colons, bounded). */
export function idempotencyKey(door: string, key: string): string {
  return `${door}-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

export interface RedisNode {
  host: string;
  port: number;
}

export interface RedisSettings {
  /** redis:// or rediss:// URL; with Sentinel or Cluster it still gives the user, password, db and TLS. */
  url: string;
  /** Producers fail fast when Redis is away; workers wait for it (BullMQ's advice). */
  role: 'producer' | 'worker';
  /** Redis Sentinel: the sentinels to ask for the master named `sentinelName`. */
  sentinels?: RedisNode[];
  sentinelName?: string;
  sentinelPassword?: string;
  /** Redis Cluster: some of its nodes (the rest are discovered). The queue prefix must be a {hash tag}. */
  clusterNodes?: RedisNode[];
}

/** What redisConnection hands ioredis, as data (unit-tested: the options decide how failures behave). */
export type ConnectionPlan =
  | { mode: 'url'; url: string; options: RedisOptions }
  | { mode: 'sentinel'; options: RedisOptions }
  | { mode: 'cluster'; nodes: RedisNode[]; options: ClusterOptions };

const retryStrategy = (n: number) => Math.min(n * 200, 2000);

export function connectionPlan(s: RedisSettings): ConnectionPlan {
  const role: RedisOptions =
    s.role === 'worker'
      ? // BullMQ: a worker's blocking calls must never give up while Redis is away.
        { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5000 };
  if (!s.sentinels?.length && !s.clusterNodes?.length) {
    return { mode: 'url', url: s.url, options: { ...role, lazyConnect: false, retryStrategy } };
  }
  const u = new URL(s.url);
  const auth: RedisOptions = {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  if (s.clusterNodes?.length) {
    // Offline queue and retries are the cluster's own options; per-node options go in redisOptions.
    const { enableOfflineQueue, ...nodeRole } = role;
    return {
      mode: 'cluster',
      nodes: s.clusterNodes,
      options: { redisOptions: { ...auth, ...nodeRole }, enableOfflineQueue: enableOfflineQueue ?? true, enableReadyCheck: true, clusterRetryStrategy: retryStrategy, lazyConnect: false },
    };
  }
  const db = Number(u.pathname.slice(1) || 0);
  return {
    mode: 'sentinel',
    options: {
      ...auth,
      ...role,
      ...(db ? { db } : {}),
      sentinels: s.sentinels,
      name: s.sentinelName ?? 'mymaster',
      ...(s.sentinelPassword ? { sentinelPassword: s.sentinelPassword } : {}),
      ...(u.protocol === 'rediss:' ? { enableTLSForSentinelMode: true } : {}),
      lazyConnect: false,
      retryStrategy,
      sentinelRetryStrategy: retryStrategy,
    },
  };
}

/**
 * An ioredis connection set up the way BullMQ wants it for the role: one Redis, a Sentinel-managed
 * master, or a Cluster. A Cluster client answers the same commands, so it is typed as a Redis here;
 * use duplicateConnection() rather than .duplicate(options), whose arguments differ for a Cluster.
 */
export function redisConnection(s: RedisSettings): Redis {
  const plan = connectionPlan(s);
  if (plan.mode === 'cluster') return new Cluster(plan.nodes, plan.options) as unknown as Redis;
  if (plan.mode === 'sentinel') return new Redis(plan.options);
  return new Redis(plan.url, plan.options);
}

/** A second connection like `conn` with some options changed (Redis or Cluster alike). */
export function duplicateConnection(conn: Redis, override: Partial<RedisOptions>): Redis {
  const c = conn as unknown as Redis | Cluster;
  if (c instanceof Cluster) {
    const { enableOfflineQueue, ...node } = override;
    return c.duplicate(undefined, { ...c.options, ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }), redisOptions: { ...c.options.redisOptions, ...node } }) as unknown as Redis;
  }
  return c.duplicate(override);
}

export interface EnqueueRequest {
  spec: JobSpec;
  origin: Origin;
  host: string;
  command: string;
  /** Same key, same job: a retried request is not a second job. */
  idempotencyKey?: string;
}

/** Producer side of the job model: one Queue per host on a shared connection. */
export class JobQueues {
  private queues = new Map<string, Queue>();
  private events = new Map<string, QueueEvents>();
  /** Blocking readers need connections of their own, closed with the queues. */
  private extra: Redis[] = [];

  constructor(
    private connection: Redis,
    readonly prefix: string,
    readonly hosts: string[],
    private keepJobs = 1000,
  ) {}

  queue(host: string): Queue {
    let q = this.queues.get(host);
    if (!q) {
      if (!this.hosts.includes(host)) throw new Error(`unknown host "${host}"`);
      q = new Queue(queueName(host), { connection: this.connection, prefix: this.prefix });
      q.on('error', () => undefined); // connection errors surface on the calls that need Redis
      this.queues.set(host, q);
    }
    return q;
  }

  /** QueueEvents for a host, made ready before use (a job finishing earlier would be missed). */
  async queueEvents(host: string): Promise<QueueEvents> {
    let e = this.events.get(host);
    if (!e) {
      const conn = duplicateConnection(this.connection, { maxRetriesPerRequest: null, enableOfflineQueue: true });
      this.extra.push(conn);
      e = new QueueEvents(queueName(host), { connection: conn, prefix: this.prefix });
      this.events.set(host, e);
      await e.waitUntilReady();
    }
    return e;
  }

  async enqueue(req: EnqueueRequest): Promise<Job> {
    const data: JobData = { spec: req.spec, origin: req.origin, host: req.host, command: req.command, submittedAt: Date.now() };
    const id = jobId(req.host, req.idempotencyKey ?? randomUUID());
    return this.queue(req.host).add(req.spec.kind, data, {
      jobId: id,
      // A docker command is not retried blindly: `run` twice is two containers.
      attempts: 1,
      removeOnComplete: { count: this.keepJobs },
      removeOnFail: { count: this.keepJobs },
    });
  }

  /**
   * What to tell the asker when no worker serves the host: the job would wait silently otherwise
   * (it stays queued). Undefined when a worker is live, or when Redis cannot say.
   */
  async noWorkerWarning(host: string): Promise<string | undefined> {
    const workers = await this.queue(host).getWorkersCount().catch(() => -1);
    return workers === 0 ? `no worker is running for host "${host}": the job waits in the queue until one starts (dockops worker --host ${host})` : undefined;
  }

  async get(id: string): Promise<Job | undefined> {
    const host = hostOfJobId(id);
    if (!host || !this.hosts.includes(host)) return undefined;
    return (await this.queue(host).getJob(id)) ?? undefined;
  }

  /** Log entries of a job from index `from` on. */
  async logs(id: string, from: number): Promise<{ entries: LogEntry[]; next: number }> {
    const host = hostOfJobId(id) as string;
    const { logs } = await this.queue(host).getJobLogs(id, from, -1, true);
    const entries: LogEntry[] = [];
    for (const l of logs) {
      try {
        entries.push(JSON.parse(l) as LogEntry);
      } catch {
        entries.push({ s: 'progress', t: l });
      }
    }
    return { entries, next: from + logs.length };
  }

  async close(): Promise<void> {
    await Promise.all([...this.events.values()].map((e) => e.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    for (const c of this.extra) c.disconnect();
  }
}

/** A job as every door shows it: state, exit code, result, error. */
export async function jobView(job: Job) {
  // `job` was read before its state was asked: a job that ended in between has a terminal state
  // but not yet its result or end time in this copy. Show the copy's own moment (still running),
  // never "completed" with no result; the next read has all of it.
  const asked = await job.getState();
  const state = (asked === 'completed' || asked === 'failed') && !job.finishedOn ? 'active' : asked;
  const result = job.returnvalue ? JobResult.safeParse(job.returnvalue) : undefined;
  const data = job.data as JobData;
  const origin = { ...data.origin } as Record<string, unknown>;
  return {
    id: job.id,
    host: data.host,
    kind: data.spec?.kind,
    command: data.command,
    origin,
    state,
    progress: job.progress,
    exitCode: result?.success ? result.data.exitCode : state === 'failed' ? 1 : null,
    result: result?.success ? result.data : null,
    error: state === 'failed' ? job.failedReason : null,
    createdAt: new Date(job.timestamp).toISOString(),
    startedAt: job.processedOn ? new Date(job.processedOn).toISOString() : null,
    finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}
export type JobView = Awaited<ReturnType<typeof jobView>>;

/** Redis channel on which cancel requests reach whichever worker runs the job. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

/**
 * Asks whichever worker runs the job to cancel it (its AbortSignal), with a reason the job's
 * failure shows ("superseded by …"). Doors that publish a bare job ID mean "by request".
 */
export async function requestCancel(redis: Redis, prefix: string, id: string, reason?: string): Promise<void> {
  await redis.publish(cancelChannel(prefix), reason ? JSON.stringify({ id, reason }) : id);
}

/** A cancel message: a bare job ID, or `{"id", "reason"}`. */
export function parseCancelMessage(message: string): { id: string; reason?: string } {
  if (!message.startsWith('{')) return { id: message };
  try {
    const m = JSON.parse(message) as { id?: unknown; reason?: unknown };
    return { id: String(m.id ?? ''), reason: typeof m.reason === 'string' ? m.reason : undefined };
  } catch {
    return { id: message };
  }
}
