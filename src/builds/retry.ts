import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { idempotencyKey, type JobData, type JobQueues } from '../jobs/queue.js';
import type { AutobuildSpec } from '../commands/builds/autobuild.js';
import { DockopsError } from '../errors.js';
import { latestBuild, recordBuild } from './supersede.js';

/**
 * Runs a finished build again, as the same push asked for it (its spec and origin, so the commit
 * status and the Slack channel follow), under a new job ID. A build that a newer push replaced is
 * not retried: that would put the older commit back under the same tags.
 */
export async function retryBuild(jobs: JobQueues, redis: Redis, log: Logger, job: Job, key: string): Promise<Job> {
  const data = job.data as JobData;
  const spec = data.spec as AutobuildSpec;
  const buildKey = { host: data.host, repository: spec.repository, sourceref: spec.sourceref, rule: spec.rule };
  const latest = await latestBuild(redis, jobs.prefix, buildKey);
  if (latest && latest !== job.id) {
    throw new DockopsError(`A newer push to ${spec.sourceref} replaced this build (job ${latest}); retry that one instead.`, 'usage', 1);
  }
  const again = await jobs.enqueue({ spec, origin: data.origin, host: data.host, command: data.command, idempotencyKey: idempotencyKey('build-retry', key) });
  await recordBuild(redis, jobs.prefix, buildKey, again.id as string);
  log.info({ jobId: again.id, retryOf: job.id }, 'build retried');
  return again;
}
