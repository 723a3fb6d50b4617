import type { RunPolicy } from '../config.js';
import { z } from 'zod';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { ArtifactStore } from '../artifacts/store.js';
import { Artifact } from '../artifacts/store.js';
import type { BackupTargets } from '../backup/target.js';
import type { Schedules } from '../schedules/service.js';
import type { AuditRow } from '../ops/audit.js';
import type { HostStatus } from '../ops/hosts.js';
import type { BuildRepo } from '../builds/rules.js';
import type { JobQueues } from './queue.js';

/** Who asked and where the answer goes. Travels with the job; never holds a secret. */
export const Origin = z.discriminatedUnion('door', [
  z.object({ door: z.literal('api'), token: z.string(), ip: z.string().optional() }),
  z.object({ door: z.literal('cli'), token: z.string(), user: z.string().optional() }),
  z.object({
    door: z.literal('slack'),
    team: z.string(),
    channel: z.string(),
    user: z.string(),
    responseUrl: z.string().optional(),
    thread: z.string().optional(),
  }),
  z.object({
    door: z.literal('github'),
    delivery: z.string(),
    repo: z.string(),
    sha: z.string(),
    /** The Slack channel of the build rule, where the build's message goes. */
    slackChannel: z.string().optional(),
  }),
  z.object({ door: z.literal('schedule'), name: z.string() }),
]);
export type Origin = z.infer<typeof Origin>;

/** One job's result: what the docker CLI would have printed, its exit code, and structured data. */
export const JobResult = z.object({
  exitCode: z.number().int(),
  /** docker-CLI text on stdout (for streamed commands, only what was not streamed). */
  stdout: z.string(),
  stderr: z.string(),
  /** True when the output reached the job log as it happened (run, pull, logs). */
  streamed: z.boolean().default(false),
  /** Output was longer than the cap; the job log has all of it. */
  truncated: z.boolean().default(false),
  data: z.unknown().optional(),
  /** Files the job made, to download from GET /api/artifacts/:id. */
  artifacts: z.array(Artifact).optional(),
});
export type JobResult = z.infer<typeof JobResult>;

/** A line of a job's log, as kept in Redis (BullMQ's job log) and served by the API. */
export interface LogEntry {
  /** stdout/stderr of the docker command, or a progress note from dockops itself. */
  s: 'stdout' | 'stderr' | 'progress';
  t: string;
}

/** Everything a command's `run` may use. Given by the worker, one per job. */
export interface RunContext {
  jobId: string;
  /** 1 the first time; more when a worker died with the job and another took it up. */
  attempt: number;
  /** The progress an earlier attempt left (a worker died with the job), for clean-up; undefined on the first. */
  previousProgress?: unknown;
  /** When the job was asked for (ms since the epoch): the same on every attempt. */
  enqueuedAt: number;
  host: string;
  docker: Docker;
  log: Logger;
  /** Aborted when the job is cancelled or the worker shuts down hard. */
  signal: AbortSignal;
  /** Appends docker-CLI output to the job log, where doors read it as it comes. */
  output(stream: 'stdout' | 'stderr', text: string): void;
  /** Structured progress (layers, bytes, steps) for reporters that draw it. */
  progress(p: Record<string, unknown>): void;
  now(): number;
  /** Files in and out of jobs. */
  artifacts: ArtifactStore;
  /** Where volume backups go (DOCKOPS_BACKUP_TARGETS). */
  backups: BackupTargets;
  /** The schedules of jobs/*.yml, where this worker was given them. */
  schedules?: Schedules;
  /** Drops the output logged so far (a resumed job replays it from the start). */
  restartOutput(): Promise<void>;
  /** What containers may do on the host (the worker's DOCKOPS_ALLOW_* and DOCKOPS_BIND_ALLOWLIST); undefined: all closed. */
  policy?: RunPolicy;
  /** The audit trail, newest first, `count` entries before a stream id (the `audit` verb). */
  readAudit(count: number, before?: string): Promise<AuditRow[]>;
  /** Every configured host's engine version, live workers and queue depth (the `hosts` verb); set where the worker was given the hosts. */
  fleetStatus?(): Promise<HostStatus[]>;
  /** The worker's Redis connection and key prefix: coordination between workers (build locks). */
  redis: Redis;
  prefix: string;
  /** Reads jobs of every host's queue (`builds ls`, `builds logs`). */
  jobs: JobQueues;
  /**
   * Ends this attempt and puts the job back in its queue until `untilMs` (epoch ms), when a worker
   * runs it again from the start. Never returns.
   */
  defer(untilMs: number): Promise<never>;
  /** Build settings of this worker's configuration. */
  builds: BuildSettings;
}

/** What builds need from the configuration: the rules, how many run at once, the redeploy wait. */
export interface BuildSettings {
  rules: BuildRepo[];
  /** Builds running at once on one host (one per repository at most). */
  concurrency: number;
  /** How long a redeployed container must stay up (and healthy) before it is kept. */
  redeployWaitMs: number;
  /** How long a build may run when its rule sets no `timeout`. */
  timeoutMs: number;
}
