import type { RunPolicy } from '../config.js';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { commandForKind } from '../commands/index.js';
import { DockopsError, UnavailableError } from '../errors.js';
import { JobData, JobQueues, cancelChannel, parseCancelMessage, queueName } from './queue.js';
import type { BuildSettings, JobResult, LogEntry, RunContext } from './types.js';
import { originWho, readAudit, recordAudit } from '../ops/audit.js';
import type { ArtifactStore } from '../artifacts/store.js';
import type { BackupTargets } from '../backup/target.js';
import { recordScheduleOutcome, type Schedules } from '../schedules/service.js';
import { fleetStatus, type Fleet } from '../ops/hosts.js';

export interface WorkerOptions {
  host: string;
  docker: Docker;
  connection: Redis;
  prefix: string;
  concurrency: number;
  log: Logger;
  /** Cap on the stdout/stderr kept in a result; the job log keeps more. */
  resultMaxBytes: number;
  artifacts: ArtifactStore;
  backups: BackupTargets;
  schedules?: Schedules;
  /** Every configured host and a client for each (the `hosts` verb looks at all of them). */
  fleet?: Pick<Fleet, 'hosts' | 'defaultHost' | 'engines'>;
  /** Lock duration; a dead worker's job is taken up again after it (default 30 s). */
  lockMs?: number;
  /** Checks only the worker can make (--volumes-from): the same variables as the doors' policy. */
  policy?: RunPolicy;
  now?: () => number;
  /** Every configured host, so `builds ls` reads builds wherever they ran (default: this host). */
  hosts?: string[];
  /** Build rules and limits (default: no rules, 2 builds at once, 30 s redeploy wait). */
  builds?: Partial<BuildSettings>;
  /** Set by startWorker: reads jobs of every host. */
  jobs?: JobQueues;
}

/** Longest output kept in a job's log in Redis; beyond it the log says it was cut. */
const LOG_MAX_BYTES = 16 * 1024 * 1024;
/** Output is written to Redis in batches: often enough to look live, rarely enough to be cheap. */
const FLUSH_MS = 50;
const FLUSH_BYTES = 64 * 1024;

/**
 * Buffers a job's output and writes it to the job log in batches, merging consecutive chunks
 * of the same stream. `flush()` must finish before the job completes, so a reader who sees the
 * job done has all of its output.
 */
class OutputLog {
  private pending: LogEntry[] = [];
  private pendingBytes = 0;
  private total = 0;
  private cut = false;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** Captured output for the result (capped). */
  stdout = '';
  stderr = '';
  truncated = false;

  constructor(private job: Job, private resultMax: number) {}

  write(s: LogEntry['s'], t: string) {
    if (!t) return;
    if (s !== 'progress') {
      const kept = this.stdout.length + this.stderr.length;
      if (kept + t.length <= this.resultMax) {
        if (s === 'stdout') this.stdout += t;
        else this.stderr += t;
      } else this.truncated = true;
    }
    if (this.cut) return;
    this.total += t.length;
    if (this.total > LOG_MAX_BYTES) {
      this.cut = true;
      this.pending.push({ s: 'stderr', t: `dockops: output beyond ${LOG_MAX_BYTES} bytes was not kept\n` });
      return;
    }
    const last = this.pending[this.pending.length - 1];
    if (last && last.s === s) last.t += t;
    else this.pending.push({ s, t });
    this.pendingBytes += t.length;
    if (this.pendingBytes >= FLUSH_BYTES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Forgets what was captured (the job log itself is cleared by the caller). */
  reset() {
    this.stdout = '';
    this.stderr = '';
    this.total = 0;
  }

  flush(): Promise<unknown> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (batch.length) {
      this.chain = this.chain.then(async () => {
        for (const e of batch) await this.job.log(JSON.stringify(e));
      });
    }
    return this.chain;
  }
}

/**
 * Runs one job: parses its data again (Redis is not trusted to hold what we wrote), runs the
 * verb, and returns the docker answer. A docker error is an answer (completed, non-zero exit);
 * only what stops the job from getting an answer fails it: an unknown spec, an unreachable
 * engine, a cancel.
 */
export async function processJob(job: Job, opts: WorkerOptions, signal: AbortSignal, token?: string): Promise<JobResult> {
  const parsed = JobData.safeParse(job.data);
  if (!parsed.success) {
    throw new UnrecoverableError(`invalid job data: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const data = parsed.data;
  const cmd = commandForKind(data.spec.kind);
  if (!cmd) throw new UnrecoverableError(`unknown job kind: ${data.spec.kind}`);
  const log = opts.log.child({ jobId: job.id, kind: data.spec.kind, host: opts.host });
  const out = new OutputLog(job, opts.resultMaxBytes);
  const ctx: RunContext = {
    jobId: job.id as string,
    attempt: job.attemptsStarted,
    enqueuedAt: job.timestamp,
    previousProgress: job.attemptsStarted > 1 ? job.progress : undefined,
    host: opts.host,
    docker: opts.docker,
    log,
    signal,
    output: (s, t) => out.write(s, t),
    progress: (p) => {
      void job.updateProgress(p).catch((err) => log.warn({ err }, 'progress update failed'));
    },
    now: opts.now ?? Date.now,
    artifacts: opts.artifacts,
    backups: opts.backups,
    schedules: opts.schedules,
    restartOutput: async () => {
      await out.flush();
      out.reset();
      await job.clearLogs();
    },
    readAudit: (count, before) => readAudit(opts.connection, opts.prefix, count, before),
    fleetStatus: opts.fleet ? () => fleetStatus({ ...opts.fleet!, connection: opts.connection, prefix: opts.prefix }) : undefined,
    redis: opts.connection,
    prefix: opts.prefix,
    jobs: opts.jobs ?? new JobQueues(opts.connection, opts.prefix, opts.hosts ?? [opts.host]),
    defer: async (untilMs) => {
      // A cancel that came in meanwhile wins: the job ends rather than going back to the queue.
      if (signal.aborted) throw signal.reason ?? new Error('cancelled');
      await out.flush();
      await job.moveToDelayed(untilMs, token);
      throw new DelayedError();
    },
    builds: { rules: [], concurrency: 2, redeployWaitMs: 30_000, timeoutMs: 3_600_000, ...opts.builds },
    policy: opts.policy,
  };
  const started = Date.now();
  log.info({ command: data.command, origin: data.origin.door }, 'job started');
  try {
    const res = await cmd.run(data.spec, ctx);
    // A cancelled job is cancelled even when its verb wound up cleanly (a killed container exits 137).
    if (signal.aborted) throw signal.reason ?? new Error('cancelled');
    // Doors read stderr from the log only, so non-streamed stderr goes there too.
    if (res.stderr) out.write('stderr', res.stderr);
    await out.flush();
    const result: JobResult = {
      ...res,
      stdout: res.streamed ? res.stdout : res.stdout.slice(0, opts.resultMaxBytes),
      truncated: res.truncated || out.truncated || res.stdout.length > opts.resultMaxBytes,
    };
    log.info({ exitCode: result.exitCode, ms: Date.now() - started }, 'job finished');
    return result;
  } catch (err) {
    // Deferred (ctx.defer): back in the queue, not finished.
    if (err instanceof DelayedError) throw err;
    if (err instanceof DockopsError && !(err instanceof UnavailableError) && !signal.aborted) out.write('stderr', `${err.message}\n`);
    await out.flush().catch(() => undefined);
    if (signal.aborted) {
      log.info({ ms: Date.now() - started }, 'job cancelled');
      throw new UnrecoverableError(`cancelled: ${String(signal.reason ?? 'by request')}`);
    }
    if (err instanceof UnavailableError) {
      log.error({ err: err.message }, 'docker engine unavailable');
      throw err;
    }
    if (err instanceof DockopsError) {
      log.info({ exitCode: err.exitCode, ms: Date.now() - started }, 'job finished with a docker error');
      return { exitCode: err.exitCode, stdout: '', stderr: `${err.message}\n`, streamed: false, truncated: false };
    }
    log.error({ err }, 'job failed');
    throw err;
  }
}

/** A BullMQ worker for one host's queue, listening for cancel requests from any door. */
export function startWorker(opts: WorkerOptions) {
  const jobs = opts.jobs ?? new JobQueues(opts.connection, opts.prefix, opts.hosts ?? [opts.host]);
  const withJobs = { ...opts, jobs };
  const worker = new Worker(queueName(opts.host), (job, token, signal) => processJob(job, withJobs, signal ?? new AbortController().signal, token), {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    // A job whose worker died is taken up again once; a second stall fails it with a reason.
    maxStalledCount: 1,
    stalledInterval: Math.max(500, Math.floor((opts.lockMs ?? 30_000) / 2)),
    lockDuration: opts.lockMs ?? 30_000,
    name: `dockops-${opts.host}`,
  });
  worker.on('error', (err) => opts.log.error({ err: (err as Error).message }, 'worker error'));
  worker.on('failed', (job, err) => opts.log.warn({ jobId: job?.id, reason: err.message }, 'job failed'));
  // Every finished job is one audit entry: who asked, what, where it ran, how it ended.
  const audit = (job: Job | undefined, outcome: 'completed' | 'failed', exitCode?: number, reason?: string) => {
    const d = JobData.safeParse(job?.data);
    if (!job || !d.success) return;
    if (d.data.origin.door === 'schedule') {
      void recordScheduleOutcome(opts.connection, opts.prefix, d.data.origin.name, job.finishedOn ?? Date.now(), job.id as string, exitCode).catch((err) =>
        opts.log.warn({ err: (err as Error).message }, 'schedule outcome not recorded'),
      );
    }
    void recordAudit(opts.connection, opts.prefix, opts.log, {
      ...originWho(d.data.origin),
      command: d.data.command,
      host: d.data.host,
      jobId: job.id,
      outcome,
      exitCode,
      ms: job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : undefined,
      reason,
    });
  };
  worker.on('completed', (job, result: JobResult) => audit(job, 'completed', result?.exitCode));
  worker.on('failed', (job, err) => {
    // A job that will be tried again is not finished yet.
    if (job && job.attemptsMade < (job.opts.attempts ?? 1) && !(err instanceof UnrecoverableError)) return;
    audit(job, 'failed', undefined, err.message);
  });

  const sub = opts.connection.duplicate();
  void sub.subscribe(cancelChannel(opts.prefix)).catch((err) => opts.log.error({ err }, 'cancel subscription failed'));
  sub.on('message', (_ch, message: string) => {
    const { id, reason } = parseCancelMessage(message);
    if (worker.cancelJob(id, reason ?? 'cancelled by request')) opts.log.info({ jobId: id, reason }, 'cancelling job');
  });
  sub.on('error', () => undefined);

  return {
    worker,
    /**
     * Drains: takes no new job, lets running ones finish within the grace period, then cancels
     * what is left (its lock lapses and another worker takes it up).
     */
    async close(graceMs: number) {
      const closing = worker.close();
      const timedOut = await Promise.race([closing.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref())]);
      if (timedOut) {
        opts.log.warn('shutdown grace period over: cancelling running jobs');
        worker.cancelAllJobs('worker shutting down');
        await worker.close(true);
      }
      sub.disconnect();
      await jobs.close();
    },
  };
}
