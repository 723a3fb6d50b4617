import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { requestCancel, type JobData, type JobQueues } from '../jobs/queue.js';
import { BUILD_INDEX_MAX, SUPERSEDED_TTL_S, buildIndexKey, supersededKey, type Superseded } from './records.js';

export { readSuperseded, type Superseded } from './records.js';

// KEYS[1] latest build per (host, repository, ref, rule), KEYS[2] the index; ARGV[1] field,
// ARGV[2] job ID, ARGV[3] index size. A job already indexed is a redelivery: nothing changes.
const RECORD = `
if redis.call('LPOS', KEYS[2], ARGV[2]) then return false end
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return old
`;

/**
 * Records a new build of a repository's ref (by one rule) and returns the build it replaces, if
 * any. Atomic, so two API processes taking two pushes at once agree on which came last.
 */
export async function recordBuild(redis: Redis, prefix: string, key: BuildKey, jobId: string): Promise<string | undefined> {
  const old = (await redis.eval(RECORD, 2, latestKey(prefix), buildIndexKey(prefix), latestField(key), jobId, BUILD_INDEX_MAX)) as string | null;
  return old && old !== jobId ? old : undefined;
}

/** What makes two builds the same build of different commits: host, repository, ref and rule. */
export interface BuildKey {
  host: string;
  repository: string;
  sourceref: string;
  rule: number;
}

function latestKey(prefix: string) {
  return `${prefix}:build-latest`;
}

function latestField(key: BuildKey) {
  return [key.host, key.repository.toLowerCase(), key.rule, key.sourceref].join('\u0000');
}

/** The newest build of a ref by a rule (the one no push has replaced). */
export async function latestBuild(redis: Redis, prefix: string, key: BuildKey): Promise<string | undefined> {
  return (await redis.hget(latestKey(prefix), latestField(key))) ?? undefined;
}

/**
 * A newer push replaced this build: a queued one is removed from the queue, a running one is
 * cancelled through the cancel channel (its AbortSignal) with the reason "superseded by <sha>".
 * The record is written first, so a build that starts meanwhile sees it and stops at once.
 */
export async function supersedeBuild(jobs: JobQueues, redis: Redis, log: Logger, oldId: string, by: { sha: string; jobId: string }): Promise<'removed' | 'cancelling' | 'finished' | 'gone'> {
  const job = await jobs.get(oldId);
  if (!job) return 'gone';
  const data = job.data as JobData;
  if (data.spec.kind !== 'autobuild') return 'gone';
  const record: Superseded = {
    by: by.sha,
    byJob: by.jobId,
    repository: data.spec.repository,
    sourceref: data.spec.sourceref,
    sha: data.spec.sha,
    tags: data.spec.tags,
    at: Date.now(),
  };
  const key = supersededKey(jobs.prefix, oldId);
  await redis.set(key, JSON.stringify(record), 'EX', SUPERSEDED_TTL_S);
  const state = await job.getState();
  if (state === 'completed' || state === 'failed') {
    await redis.del(key);
    return 'finished';
  }
  if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
    try {
      await redis.set(key, JSON.stringify({ ...record, how: 'removed' }), 'EX', SUPERSEDED_TTL_S);
      await job.remove();
      log.info({ jobId: oldId, by: by.jobId }, 'queued build superseded: removed');
      return 'removed';
    } catch {
      // Taken by a worker in the meantime: cancel it where it runs.
    }
  }
  await redis.set(key, JSON.stringify({ ...record, how: 'cancelled' }), 'EX', SUPERSEDED_TTL_S);
  await requestCancel(redis, jobs.prefix, oldId, `superseded by ${by.sha}`);
  log.info({ jobId: oldId, by: by.jobId }, 'running build superseded: cancelling');
  return 'cancelling';
}
