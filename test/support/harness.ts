import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { parseCommand, type JobSpec } from '../../src/commands/index.js';
import { JobQueues } from '../../src/jobs/queue.js';
import { startWorker } from '../../src/jobs/worker.js';
import type { JobResult, LogEntry } from '../../src/jobs/types.js';
import { docker, dropPrefix, redis, testPrefix } from './env.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArtifactStore } from '../../src/artifacts/store.js';
import { BackupTargets, DEFAULT_BACKUP_SETTINGS, LocalTarget, type BackupSettings, type BackupTarget } from '../../src/backup/target.js';

/**
 * A producer and a worker on the real Redis and engine, with a queue prefix of their own, the
 * way `dockops start` wires them. `run(cmd)` submits a command and waits for its answer.
 */
export async function harness(opts: { concurrency?: number; now?: () => number; backupSettings?: Partial<BackupSettings>; extraTargets?: BackupTarget[] } = {}) {
  const prefix = testPrefix();
  const conn: Redis = redis();
  const workerConn: Redis = redis();
  const jobs = new JobQueues(conn, prefix, ['local']);
  const artifactDir = mkdtempSync(path.join(os.tmpdir(), 'dockops-artifacts-'));
  const artifacts = new ArtifactStore(artifactDir, 1024 ** 3);
  const backupDir = mkdtempSync(path.join(os.tmpdir(), 'dockops-backups-'));
  const backups = new BackupTargets([new LocalTarget('local', backupDir), ...(opts.extraTargets ?? [])], { ...DEFAULT_BACKUP_SETTINGS, ...opts.backupSettings });
  const w = startWorker({
    host: 'local',
    docker: docker(),
    connection: workerConn,
    prefix,
    concurrency: opts.concurrency ?? 4,
    log: pino({ level: 'silent' }),
    resultMaxBytes: 1024 * 1024,
    artifacts,
    backups,
    now: opts.now,
  });
  await w.worker.waitUntilReady();
  // QueueEvents must be listening before the first job is added, or a fast job's completion is missed.
  await jobs.queueEvents('local');

  async function submit(cmd: string, key?: string) {
    const o = parseCommand(cmd);
    if (o.type !== 'spec') throw new Error('help, not a spec');
    return jobs.enqueue({ spec: o.spec as JobSpec, origin: { door: 'api', token: 'test' }, host: 'local', command: cmd, idempotencyKey: key });
  }

  /** Submits and waits; returns the result with the streamed output joined per stream. */
  async function run(cmd: string) {
    const job = await submit(cmd);
    const events = await jobs.queueEvents('local');
    let result: JobResult;
    let failed: string | undefined;
    try {
      result = (await job.waitUntilFinished(events, 60_000)) as JobResult;
    } catch (err) {
      failed = (err as Error).message;
      result = { exitCode: -1, stdout: '', stderr: '', streamed: false, truncated: false };
    }
    const { entries } = await jobs.logs(job.id as string, 0);
    const joined = (s: LogEntry['s']) => entries.filter((e) => e.s === s).map((e) => e.t).join('');
    const stdout = (result.streamed ? joined('stdout') : '') + result.stdout;
    return { id: job.id as string, result, failed, stdout, stderr: joined('stderr'), entries };
  }

  return {
    prefix,
    jobs,
    artifacts,
    backups,
    backupDir,
    worker: w,
    submit,
    run,
    async close() {
      await w.close(5000);
      await jobs.close();
      await dropPrefix(conn, prefix);
      conn.disconnect();
      workerConn.disconnect();
      rmSync(artifactDir, { recursive: true, force: true });
      rmSync(backupDir, { recursive: true, force: true });
    },
  };
}
