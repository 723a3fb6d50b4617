import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WebClient } from '@slack/web-api';
import type { JobData, JobQueues } from '../jobs/queue.js';
import { finishedOutput } from './finished.js';
import { jobMessage } from '../render/slack.js';
import { humanDuration } from '../render/units.js';
import type { Schedules } from '../schedules/service.js';
import { listenToJobEvents } from './listen.js';

export interface ScheduleReporterDeps {
  jobs: JobQueues;
  redis: Redis;
  schedules: Schedules;
  log: Logger;
  publicUrl: string;
  /** The signed link to a job's page; without it, the job's log in the API. */
  jobPage?: (jobId: string) => string;
  web?: WebClient;
  /** Failures and alerts of schedules that name no channel go here. */
  alertChannel?: string;
  checkMs: number;
}

/**
 * Reports scheduled jobs to Slack: every run to the schedule's own channel, failures also to the alert
 * channel when it names none (a failure always reaches someone); and a missed-run alert when a
 * schedule has not succeeded within its alert time. Without a bot token, both go to the log.
 */
export function startScheduleReporter(deps: ScheduleReporterDeps) {
  const post = async (channel: string | undefined, text: string, blocks?: unknown[]) => {
    if (!channel || !deps.web) return false;
    try {
      await deps.web.chat.postMessage({ channel, text, blocks: blocks as never, unfurl_links: false });
      return true;
    } catch (err) {
      deps.log.warn({ err: (err as Error).message, channel }, 'schedule report not posted');
      return false;
    }
  };

  const finished = async (jobId: string) => {
    const job = await deps.jobs.get(jobId);
    const data = job?.data as JobData | undefined;
    if (!job || data?.origin?.door !== 'schedule') return;
    const claimed = await deps.redis.set(`${deps.jobs.prefix}:schedule-reported:${jobId}`, '1', 'EX', 86_400, 'NX');
    if (claimed !== 'OK') return;
    const s = deps.schedules.list.find((x) => x.name === (data.origin as { name: string }).name);
    const { view, stdout, stderr, durationMs } = await finishedOutput(deps.jobs, job);
    const ok = view.state === 'completed' && view.exitCode === 0;
    const msg = jobMessage(
      { command: data.command, id: jobId, host: data.host, state: view.state, exitCode: view.exitCode, result: view.result, error: view.error, durationMs, logUrl: deps.jobPage ? deps.jobPage(jobId) : `${deps.publicUrl}/api/jobs/${jobId}/logs` },
      { stdout, stderr },
    );
    const name = s?.name ?? (data.origin as { name: string }).name;
    const text = `schedule ${name}: ${msg.text}`;
    deps.log[ok ? 'info' : 'warn']({ schedule: name, jobId, exitCode: view.exitCode, state: view.state }, 'scheduled job finished');
    const channel = s?.slack_channel ?? (ok ? undefined : deps.alertChannel);
    await post(channel, text, [{ type: 'context', elements: [{ type: 'mrkdwn', text: `:calendar: schedule *${name}*` }] }, ...msg.blocks]);
  };

  const events = listenToJobEvents(deps.jobs, deps.redis, { finished: (id) => void finished(id).catch((err) => deps.log.warn({ err: (err as Error).message }, 'schedule report failed')) });

  const check = async () => {
    for (const { s, state } of await deps.schedules.overdue()) {
      const last = state.lastOk ? `last success ${humanDuration(Date.now() - state.lastOk)} ago` : 'no success since it was set up';
      const text = `:rotating_light: schedule ${s.name} (\`${s.command}\`, ${s.schedule}) has not succeeded within ${humanDuration(s.alertAfterMs)}: ${last}${state.lastJob ? `; last run ${state.lastJob} exited ${state.lastExit ?? 'without a code'}` : ''}`;
      deps.log.warn({ schedule: s.name, lastOk: state.lastOk, lastJob: state.lastJob }, 'schedule overdue');
      await post(s.slack_channel ?? deps.alertChannel, text);
    }
  };
  const timer = setInterval(() => void check().catch((err) => deps.log.warn({ err: (err as Error).message }, 'schedule check failed')), deps.checkMs);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await events.close();
    },
  };
}
