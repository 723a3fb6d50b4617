import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { jobView, type JobData, type JobQueues } from '../jobs/queue.js';
import { listenToJobEvents } from '../report/listen.js';

/** BullMQ states the queue-depth gauge reports, per host. */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;
const BUILD_KINDS = new Set(['autobuild', 'image.build']);

/**
 * Prometheus metrics of one API process (`serve`/`start`), read at GET /metrics.
 *
 * Finished jobs are observed through QueueEvents, wherever their worker ran. With several API
 * processes each one hears every job, so each job is claimed once in Redis (`SET NX`): every
 * finished job is counted by exactly one process, and `sum()` over the instances is the total.
 * The queue-depth gauge is read from Redis at scrape time, so every instance reports the same
 * value: use `max()` over instances for it. Requests are counted by the process that served them.
 * A job that finishes while no API process runs is not counted (the listener starts about a
 * second before its process does).
 */
export class Metrics {
  readonly registry = new Registry();
  readonly jobsFinished: Counter<'kind' | 'host' | 'state' | 'exit_code'>;
  readonly jobDuration: Histogram<'kind' | 'host'>;
  readonly buildDuration: Histogram<'kind' | 'host' | 'state'>;
  readonly backupBytes: Counter<'host' | 'target' | 'volume'>;
  readonly backupRawBytes: Counter<'host' | 'target' | 'volume'>;
  readonly backups: Counter<'host' | 'target' | 'volume'>;
  readonly requests: Counter<'door' | 'method' | 'status'>;
  private listener?: { close(): Promise<void> };

  constructor(
    private readonly jobs: JobQueues,
    private readonly redis: Redis,
    private readonly log: Logger,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'dockops_' });
    this.jobsFinished = new Counter({
      name: 'dockops_jobs_finished_total',
      help: 'Jobs finished, by kind, host, BullMQ state (completed/failed) and the docker exit code',
      labelNames: ['kind', 'host', 'state', 'exit_code'],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'dockops_job_duration_seconds',
      help: 'Time from a worker taking a job up to its end, by kind and host',
      labelNames: ['kind', 'host'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.buildDuration = new Histogram({
      name: 'dockops_build_duration_seconds',
      help: 'Image builds (autobuild from a push, image.build from a command), by outcome: ok (exit 0) or error',
      labelNames: ['kind', 'host', 'state'],
      buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
      registers,
    });
    this.backupBytes = new Counter({ name: 'dockops_backup_bytes_total', help: 'Bytes written to backup targets (after compression)', labelNames: ['host', 'target', 'volume'], registers });
    this.backupRawBytes = new Counter({ name: 'dockops_backup_raw_bytes_total', help: 'Bytes of volume data read for backups (before compression)', labelNames: ['host', 'target', 'volume'], registers });
    this.backups = new Counter({ name: 'dockops_backups_total', help: 'Volume backups made', labelNames: ['host', 'target', 'volume'], registers });
    this.requests = new Counter({
      name: 'dockops_http_requests_total',
      help: 'HTTP requests to the doors (api, slack, webhooks), by door, method and status code',
      labelNames: ['door', 'method', 'status'],
      registers,
    });
    const jobsRef = this.jobs;
    new Gauge({
      name: 'dockops_queue_jobs',
      help: 'Jobs in each host queue by BullMQ state, read from Redis at scrape time (the same in every instance: use max())',
      labelNames: ['host', 'state'],
      registers,
      async collect() {
        await Promise.all(
          jobsRef.hosts.map(async (host) => {
            try {
              const counts = await jobsRef.queue(host).getJobCounts(...QUEUE_STATES);
              for (const s of QUEUE_STATES) this.set({ host, state: s }, counts[s] ?? 0);
            } catch {
              // Redis away: the gauge keeps its last values; dockops_up-style alerts come from /readyz.
            }
          }),
        );
      },
    });
  }

  /** Starts observing finished jobs of every host queue. */
  start(): this {
    this.listener = listenToJobEvents(this.jobs, this.redis, {
      finished: (jobId) => void this.observe(jobId).catch((err) => this.log.warn({ jobId, err: (err as Error).message }, 'job not counted in metrics')),
    });
    return this;
  }

  /** Counts one finished job, once across every API process (a Redis claim per job). */
  async observe(jobId: string): Promise<void> {
    const claimed = await this.redis.set(`${this.jobs.prefix}:metrics-counted:${jobId}`, '1', 'EX', 86_400, 'NX');
    if (claimed !== 'OK') return;
    const job = await this.jobs.get(jobId);
    if (!job) return;
    const v = await jobView(job);
    const data = job.data as JobData;
    const kind = data.spec?.kind ?? 'unknown';
    const host = data.host;
    const exitCode = v.exitCode === null ? 'none' : String(v.exitCode);
    this.jobsFinished.inc({ kind, host, state: v.state, exit_code: exitCode });
    const seconds = job.finishedOn && job.processedOn ? Math.max(0, job.finishedOn - job.processedOn) / 1000 : undefined;
    if (seconds !== undefined) {
      this.jobDuration.observe({ kind, host }, seconds);
      if (BUILD_KINDS.has(kind)) this.buildDuration.observe({ kind, host, state: v.state === 'completed' && v.exitCode === 0 ? 'ok' : 'error' }, seconds);
    }
    const resultData = v.result?.data as { backups?: Array<{ size?: unknown; rawSize?: unknown; volume?: unknown }>; target?: unknown } | undefined;
    if (resultData && Array.isArray(resultData.backups)) {
      const target = typeof resultData.target === 'string' ? resultData.target : 'unknown';
      for (const b of resultData.backups) {
        const labels = { host, target, volume: typeof b.volume === 'string' ? b.volume : 'unknown' };
        this.backups.inc(labels);
        if (typeof b.size === 'number') this.backupBytes.inc(labels, b.size);
        if (typeof b.rawSize === 'number') this.backupRawBytes.inc(labels, b.rawSize);
      }
    }
  }

  /** Express middleware counting requests of the doors; mount before them. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const door = /^\/(api|slack|webhooks)(\/|$)/.exec(req.path)?.[1];
      if (door) res.on('finish', () => this.requests.inc({ door, method: req.method, status: String(res.statusCode) }));
      next();
    };
  }

  /** GET /metrics, behind `Authorization: Bearer DOCKOPS_METRICS_TOKEN` when that is set. */
  handler(token: string | undefined) {
    const want = token ? createHash('sha256').update(token).digest() : undefined;
    return async (req: Request, res: Response) => {
      if (want) {
        const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
        if (!m || !timingSafeEqual(createHash('sha256').update(m[1]).digest(), want)) {
          res.status(401).set('www-authenticate', 'Bearer').type('text/plain').send('unauthorized: send "Authorization: Bearer <DOCKOPS_METRICS_TOKEN>"\n');
          return;
        }
      }
      try {
        res.set('content-type', this.registry.contentType).send(await this.registry.metrics());
      } catch (err) {
        this.log.error({ err }, 'metrics failed');
        res.status(500).type('text/plain').send('metrics failed (logged on the server)\n');
      }
    };
  }

  async close(): Promise<void> {
    await this.listener?.close();
  }
}
