import type { Job } from 'bullmq';
import { jobView, type JobQueues } from '../jobs/queue.js';

/**
 * What a reporter shows of a finished job: its view, its whole log, and the output as the docker
 * CLI printed it (streamed stdout from the log plus what the result kept; stderr from the log).
 */
export async function finishedOutput(jobs: JobQueues, job: Job) {
  const view = await jobView(job);
  const { entries } = await jobs.logs(job.id as string, 0);
  return {
    view,
    entries,
    stdout: entries.filter((e) => e.s === 'stdout').map((e) => e.t).join('') + (view.result?.stdout ?? ''),
    stderr: entries.filter((e) => e.s === 'stderr').map((e) => e.t).join(''),
    durationMs: job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : undefined,
  };
}
