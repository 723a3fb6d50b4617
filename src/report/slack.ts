import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { jobView, queueName, type JobData, type JobQueues } from '../jobs/queue.js';
import { jobMessage } from '../render/slack.js';

export interface SlackReporterDeps {
  jobs: JobQueues;
  redis: Redis;
  log: Logger;
  publicUrl: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Posts a finished Slack job's result to its response_url (one of the 5 uses Slack allows in 30
 * minutes). Every API process listens; a Redis claim per job makes exactly one of them post.
 */
export async function reportToSlack(deps: SlackReporterDeps, jobId: string): Promise<void> {
  const job = await deps.jobs.get(jobId);
  if (!job) return;
  const data = job.data as JobData;
  if (data.origin?.door !== 'slack' || !data.origin.responseUrl) return;
  const claimed = await deps.redis.set(`${deps.jobs.prefix}:slack-reported:${jobId}`, '1', 'EX', 86_400, 'NX');
  if (claimed !== 'OK') return;
  const view = await jobView(job);
  const { entries } = await deps.jobs.logs(jobId, 0);
  const stdout = entries.filter((e) => e.s === 'stdout').map((e) => e.t).join('') + (view.result?.stdout ?? '');
  const stderr = entries.filter((e) => e.s === 'stderr').map((e) => e.t).join('');
  const msg = jobMessage(
    {
      command: data.command,
      id: jobId,
      host: data.host,
      state: view.state,
      exitCode: view.exitCode,
      result: view.result,
      error: view.error,
      durationMs: job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : undefined,
      logUrl: `${deps.publicUrl}/api/jobs/${jobId}/logs`,
    },
    { stdout, stderr },
  );
  const body = JSON.stringify({ response_type: 'in_channel', replace_original: true, ...msg });
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const res = await fetch(data.origin.responseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (res.ok) {
        deps.log.info({ jobId, status: res.status }, 'slack result posted');
        return;
      }
      // Slack's rate limit says when to come back.
      const wait = res.status === 429 ? Number(res.headers.get('retry-after') ?? 1) * 1000 : 500 * attempt;
      deps.log.warn({ jobId, status: res.status, attempt }, 'slack result post refused');
      if (res.status < 500 && res.status !== 429) return;
      await sleep(Math.min(wait, 30_000));
    } catch (err) {
      deps.log.warn({ jobId, err: (err as Error).message, attempt }, 'slack result post failed');
      await sleep(500 * attempt);
    }
  }
}

/** Listens to every host queue's finished jobs and reports the Slack ones. */
export async function startSlackReporter(deps: SlackReporterDeps) {
  const listeners: QueueEvents[] = [];
  const conns: Redis[] = [];
  for (const host of deps.jobs.hosts) {
    const conn = deps.redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
    conn.on('error', () => undefined);
    conns.push(conn);
    const ev = new QueueEvents(queueName(host), { connection: conn, prefix: deps.jobs.prefix });
    ev.on('error', () => undefined);
    const report = ({ jobId }: { jobId: string }) => {
      reportToSlack(deps, jobId).catch((err) => deps.log.error({ err, jobId }, 'slack report failed'));
    };
    ev.on('completed', report);
    ev.on('failed', report);
    listeners.push(ev);
  }
  // Not awaited: with Redis away at start-up the doors still come up (and answer 503).
  void Promise.all(listeners.map((l) => l.waitUntilReady())).catch(() => undefined);
  return {
    async close() {
      await Promise.all(listeners.map((l) => l.close()));
      for (const c of conns) c.disconnect();
    },
  };
}
