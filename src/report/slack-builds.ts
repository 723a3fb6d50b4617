import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WebClient } from '@slack/web-api';
import type { JobData, JobQueues } from '../jobs/queue.js';
import { listenToJobEvents } from './listen.js';
import { buildView, removedBuildView, type BuildView } from '../builds/view.js';
import { readSuperseded } from '../builds/supersede.js';
import { buildMessage, isTerminal } from '../render/slack-build.js';
import { cancelButton, retryButton } from '../doors/slack/buttons.js';

export interface SlackBuildDeps {
  jobs: JobQueues;
  redis: Redis;
  log: Logger;
  publicUrl: string;
  /** The signed link to a job's page; without it, the job's log in the API. */
  jobPage?: (jobId: string) => string;
  web: WebClient;
}

/** Slack takes about one update a second per message; states in between are skipped, never the last. */
const UPDATE_EVERY_MS = 1000;

interface Message {
  channel: string;
  ts?: string;
  lastSent: number;
  lastText?: string;
  /** A send is queued and has not read the build yet: later events ride on it. */
  queued: boolean;
  /** The job was removed from its queue (superseded, or cancelled before it started). */
  removed: boolean;
  chain: Promise<unknown>;
  done: boolean;
}

/** Build messages this process owns (it claimed them in Redis; other processes leave them alone). */
const owned = new Map<string, Message>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function claimKey(deps: SlackBuildDeps, jobId: string) {
  return `${deps.jobs.prefix}:slack-build:${jobId}`;
}

/** The build as it stands now; a build removed from the queue is read from its superseded record. */
async function currentView(deps: SlackBuildDeps, jobId: string): Promise<BuildView | undefined> {
  const [job, sup] = await Promise.all([deps.jobs.get(jobId), readSuperseded(deps.redis, deps.jobs.prefix, jobId)]);
  if (job) return buildView(job, sup);
  return sup ? removedBuildView(jobId, sup) : undefined;
}

/** Sends the message as the build stands now: posted the first time, updated after. */
async function send(deps: SlackBuildDeps, jobId: string, m: Message) {
  await sleep(Math.max(0, m.lastSent + UPDATE_EVERY_MS - Date.now()));
  m.queued = false;
  if (m.done) return;
  let v = await currentView(deps, jobId);
  if (!v) {
    if (!m.removed || !m.ts) return;
    // Removed without a superseded record: cancelled before it started (Cancel button, API).
    const prev = JSON.parse((await deps.redis.get(claimKey(deps, jobId))) ?? '{}') as { view?: BuildView };
    if (!prev.view) return;
    v = { ...prev.view, state: 'cancelled', reason: 'cancelled before it started', finishedAt: undefined };
  }
  let log: string | undefined;
  if (v.state === 'failed') {
    const { entries } = await deps.jobs.logs(jobId, 0).catch(() => ({ entries: [] as Array<{ s: string; t: string }> }));
    log = entries.filter((e) => e.s !== 'progress').map((e) => e.t).join('');
  }
  const msg = buildMessage(v, { logUrl: deps.jobPage ? deps.jobPage(jobId) : `${deps.publicUrl}/api/jobs/${jobId}/logs`, log, cancel: cancelButton(jobId), retry: retryButton(jobId) });
  const text = JSON.stringify(msg.blocks);
  if (isTerminal(v)) m.done = true;
  if (text === m.lastText) return;
  if (!m.ts) {
    const r = await deps.web.chat.postMessage({ channel: m.channel, text: msg.text, blocks: msg.blocks as never });
    m.ts = r.ts;
  } else {
    await deps.web.chat.update({ channel: m.channel, ts: m.ts, text: msg.text, blocks: msg.blocks as never });
  }
  m.lastSent = Date.now();
  m.lastText = text;
  // What the message shows, for a process that must finish it after the job is gone.
  await deps.redis.set(claimKey(deps, jobId), JSON.stringify({ channel: m.channel, ts: m.ts, view: v }), 'EX', 7 * 86_400);
  if (m.done) {
    owned.delete(jobId);
    deps.log.info({ jobId, state: v.state }, 'slack build message finished');
  }
}

/** Something happened to a build: its message is brought up to date, at most once a second. */
function touch(deps: SlackBuildDeps, jobId: string, m: Message) {
  if (m.queued || m.done) return;
  m.queued = true;
  m.chain = m.chain.then(() => send(deps, jobId, m)).catch((err) => deps.log.warn({ jobId, err: (err as Error).message }, 'slack build message failed'));
}

/** Jobs that have no build message here (other kinds, other channels' owners): not looked up again. */
const ignored = new Set<string>();

/**
 * Every API process listens; the first to see a build of a rule with `slack_channel` claims its
 * message in Redis and keeps it up to date. Any event can be the first one seen (a process that
 * started late, a missed `added`), so every event tries the claim.
 */
async function onEvent(deps: SlackBuildDeps, jobId: string, removed = false): Promise<void> {
  let m = owned.get(jobId);
  if (!m) {
    if (removed || ignored.has(jobId)) return;
    const job = await deps.jobs.get(jobId);
    const data = job?.data as JobData | undefined;
    const ignore = () => {
      if (ignored.size > 10_000) ignored.clear();
      ignored.add(jobId);
    };
    if (data?.spec?.kind !== 'autobuild' || data.origin.door !== 'github' || !data.origin.slackChannel) return ignore();
    m = owned.get(jobId);
    if (!m) {
      const claimed = await deps.redis.set(claimKey(deps, jobId), JSON.stringify({ channel: data.origin.slackChannel }), 'EX', 7 * 86_400, 'NX');
      if (claimed !== 'OK') return owned.has(jobId) ? onEvent(deps, jobId) : ignore();
      m = { channel: data.origin.slackChannel, lastSent: 0, queued: false, removed: false, chain: Promise.resolve(), done: false };
      owned.set(jobId, m);
    }
  }
  if (removed) m.removed = true;
  touch(deps, jobId, m);
}

/** One Slack message per build, for rules with `slack_channel` (needs SLACK_BOT_TOKEN). */
export function startSlackBuildReporter(deps: SlackBuildDeps) {
  const on = (removed = false) => (jobId: string) => void onEvent(deps, jobId, removed).catch((err) => deps.log.warn({ jobId, err: (err as Error).message }, 'slack build report failed'));
  return listenToJobEvents(deps.jobs, deps.redis, {
    added: on(),
    active: on(),
    progress: on(),
    finished: on(),
    removed: on(true),
  });
}
