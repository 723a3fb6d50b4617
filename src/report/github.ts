import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Octokit } from '@octokit/rest';
import { jobView, type JobData, type JobQueues } from '../jobs/queue.js';
import { listenToJobEvents } from './listen.js';
import { readSuperseded } from '../builds/supersede.js';

export interface GithubReporterDeps {
  jobs: JobQueues;
  redis: Redis;
  log: Logger;
  publicUrl: string;
  octokit: Octokit;
}

type State = 'pending' | 'success' | 'failure' | 'error';

/**
 * A commit status per build (pending → success/failure), linking to the job. Every API process
 * listens; a Redis claim per job and state makes one of them post it.
 */
export async function reportToGithub(deps: GithubReporterDeps, jobId: string, state: State): Promise<void> {
  const job = await deps.jobs.get(jobId);
  const data = job?.data as JobData | undefined;
  if (!job || data?.origin?.door !== 'github' || data.spec.kind !== 'autobuild') return;
  const claimed = await deps.redis.set(`${deps.jobs.prefix}:gh-status:${jobId}:${state}`, '1', 'EX', 86_400, 'NX');
  if (claimed !== 'OK') return;
  const view = state === 'pending' ? undefined : await jobView(job);
  const superseded = /^cancelled: superseded by ([0-9a-f]{7})/.exec(view?.error ?? '');
  if (superseded) {
    // Not a failure of the commit: a newer one replaced its build.
    await postStatus(deps, jobId, data.origin.repo, data.origin.sha, 'error', `superseded by ${superseded[1]}`);
    return;
  }
  const description =
    state === 'pending'
      ? `building ${data.spec.sourceref}`
      : state === 'success'
        ? `pushed ${data.spec.tags.join(', ')}`.slice(0, 140)
        : `failed: ${(view?.error ?? (view?.result?.stderr ?? '').trim().split('\n').pop() ?? `exit ${view?.exitCode}`).slice(0, 120)}`;
  await postStatus(deps, jobId, data.origin.repo, data.origin.sha, state, description);
}

/**
 * A queued build removed because a newer push replaced it: its commit status, if it was shown
 * as pending, says so (its job data is gone; the superseded record has what is needed).
 */
export async function reportRemovedToGithub(deps: GithubReporterDeps, jobId: string): Promise<void> {
  const s = await readSuperseded(deps.redis, deps.jobs.prefix, jobId);
  if (!s) return;
  if (!(await deps.redis.exists(`${deps.jobs.prefix}:gh-status:${jobId}:pending`))) return;
  const claimed = await deps.redis.set(`${deps.jobs.prefix}:gh-status:${jobId}:error`, '1', 'EX', 86_400, 'NX');
  if (claimed !== 'OK') return;
  await postStatus(deps, jobId, s.repository, s.sha, 'error', `superseded by ${s.by.slice(0, 7)}`);
}

async function postStatus(deps: GithubReporterDeps, jobId: string, repository: string, sha: string, state: State, description: string) {
  const [owner, repo] = repository.split('/');
  try {
    await deps.octokit.rest.repos.createCommitStatus({
      owner,
      repo,
      sha,
      state,
      context: 'dockops/build',
      description,
      target_url: `${deps.publicUrl}/api/jobs/${jobId}`,
    });
    deps.log.info({ jobId, state }, 'github commit status set');
  } catch (err) {
    deps.log.warn({ jobId, state, err: (err as Error).message }, 'github commit status failed');
  }
}

export function startGithubReporter(deps: GithubReporterDeps) {
  const report = (jobId: string, state: State | 'done') =>
    (async () => {
      let s = state;
      if (s === 'done') {
        const job = await deps.jobs.get(jobId);
        const v = job ? await jobView(job) : undefined;
        s = v?.state === 'completed' && v.exitCode === 0 ? 'success' : 'failure';
      }
      await reportToGithub(deps, jobId, s);
    })().catch((err) => deps.log.warn({ jobId, err: (err as Error).message }, 'github report failed'));
  return listenToJobEvents(deps.jobs, deps.redis, {
    active: (jobId) => void report(jobId, 'pending'),
    finished: (jobId) => void report(jobId, 'done'),
    removed: (jobId) => void reportRemovedToGithub(deps, jobId).catch((err) => deps.log.warn({ jobId, err: (err as Error).message }, 'github report failed')),
  });
}
