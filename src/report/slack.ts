import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { JobData, JobQueues } from '../jobs/queue.js';
import { listenToJobEvents } from './listen.js';
import { finishedOutput } from './finished.js';
import { WebClient } from '@slack/web-api';
import { jobMessage, progressMessage, stripAnsi, type JobMessageOptions, type SlackJobView } from '../render/slack.js';
import { commandForKind } from '../commands/index.js';
import type { JobResult, LogEntry } from '../jobs/types.js';
import { cancelButton, retryButton } from '../doors/slack/buttons.js';
import type { ArtifactLinks } from '../artifacts/links.js';

export interface SlackReporterDeps {
  jobs: JobQueues;
  redis: Redis;
  log: Logger;
  publicUrl: string;
  /** With a bot token, jobs that run longer than `liveAfterMs` get a live message updated as they go. */
  web?: WebClient;
  liveAfterMs?: number;
  /** Signs the links to a job's files shown in its message. */
  links?: ArtifactLinks;
  /** How long the signed job page link in a message lasts (DOCKOPS_JOB_LINK_TTL). */
  jobLinkTtlMs?: number;
}

/** Slack allows about one update a second per message; the SDK waits out 429 Retry-After itself. */
const UPDATE_EVERY_MS = 1000;

interface Live {
  channel: string;
  ts?: string;
  lastUpdate: number;
  timer?: NodeJS.Timeout;
  /** Output has no progress events: the message is refreshed on a tick as well. */
  tick?: NodeJS.Timeout;
  started: number;
  chain: Promise<unknown>;
}
/** Jobs whose live message this process owns (another process leaves them alone). */
const live = new Map<string, Live>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Posts a finished Slack job's result to its response_url (one of the 5 uses Slack allows in 30
 * minutes). Every API process listens; a Redis claim per job makes exactly one of them post.
 * Output too long for a message goes, whole, into the message's thread as a file (with a bot
 * token); the message shows its end and links to the job's log.
 */
export async function reportToSlack(deps: SlackReporterDeps, jobId: string): Promise<void> {
  const job = await deps.jobs.get(jobId);
  if (!job) return;
  const data = job.data as JobData;
  if (data.origin?.door !== 'slack' || !data.origin.responseUrl) return;
  const origin = { channel: data.origin.channel, responseUrl: data.origin.responseUrl };
  // A job with a live message is finished by the process that owns that message.
  const owner = await deps.redis.get(liveKey(deps, jobId));
  const mine = live.get(jobId);
  if (owner && !mine) return;
  const claimed = await deps.redis.set(`${deps.jobs.prefix}:slack-reported:${jobId}`, '1', 'EX', 86_400, 'NX');
  if (claimed !== 'OK') return;
  const { view, entries, stdout, stderr, durationMs } = await finishedOutput(deps.jobs, job);
  const slackView: SlackJobView = {
    command: data.command,
    id: jobId,
    host: data.host,
    state: view.state,
    exitCode: view.exitCode,
    result: view.result,
    error: view.error,
    durationMs,
    logUrl: deps.links && deps.jobLinkTtlMs ? deps.links.signJobPage(jobId, deps.jobLinkTtlMs).url : `${deps.publicUrl}/api/jobs/${jobId}/logs`,
    files: deps.links
      ? (view.result?.artifacts ?? []).map((a) => {
          const l = deps.links!.sign(a.id);
          return { name: a.name, size: a.size, url: l.url, expiresAt: l.expiresAt };
        })
      : undefined,
  };
  const failed = view.state === 'failed' || (view.exitCode ?? 0) !== 0;
  const message = (opts?: JobMessageOptions) => {
    const m = jobMessage(slackView, { stdout, stderr }, opts);
    if (failed) m.blocks.push(retryButton(jobId));
    return m;
  };
  const msg = message();
  // An answer for the asker only (audit) never goes into the channel: not live, not as a file.
  const isPrivate = Boolean(commandForKind(data.spec.kind)?.private);
  const file = msg.cut && deps.web && !isPrivate ? { name: `${jobId}.txt`, text: fullOutput(entries, view.result) } : undefined;
  if (mine && deps.web) {
    clearTimeout(mine.timer);
    clearInterval(mine.tick);
    live.delete(jobId);
    await mine.chain.catch(() => undefined);
    // Keep to about one update a second, the final one included.
    await sleep(Math.max(0, mine.lastUpdate + UPDATE_EVERY_MS - Date.now()));
    if (mine.ts) {
      // The live message becomes the result; the "queued" line goes away.
      try {
        const final = file ? message({ fileInThread: file.name }) : msg;
        await deps.web.chat.update({ channel: mine.channel, ts: mine.ts, text: final.text, blocks: final.blocks as never });
        await deleteOriginal(deps, origin.responseUrl, data.submittedAt);
        deps.log.info({ jobId }, 'slack live message finished');
        if (file && !(await uploadToThread(deps, jobId, data, mine.channel, mine.ts, file))) {
          await deps.web.chat.update({ channel: mine.channel, ts: mine.ts, text: msg.text, blocks: msg.blocks as never }).catch(() => undefined);
        }
        return;
      } catch (err) {
        deps.log.warn({ jobId, err: (err as Error).message }, 'slack live message update failed; answering through response_url');
      }
    }
  }
  if (file && deps.web) {
    // A thread needs a message whose ts we know: response_url does not say, chat.postMessage does.
    const final = message({ fileInThread: file.name });
    let ts: string | undefined;
    try {
      ts = (await deps.web.chat.postMessage({ channel: origin.channel, text: final.text, blocks: final.blocks as never })).ts;
    } catch (err) {
      deps.log.warn({ jobId, err: (err as Error).message }, 'slack result message failed; answering through response_url with a link');
    }
    if (ts) {
      await deleteOriginal(deps, origin.responseUrl, data.submittedAt);
      if (!(await uploadToThread(deps, jobId, data, origin.channel, ts, file))) {
        await deps.web.chat.update({ channel: origin.channel, ts, text: msg.text, blocks: msg.blocks as never }).catch(() => undefined);
      }
      deps.log.info({ jobId }, 'slack result posted with its output in the thread');
      return;
    }
  }
  const body = JSON.stringify({ response_type: isPrivate ? 'ephemeral' : 'in_channel', replace_original: true, ...msg, cut: undefined });
  for (let attempt = 1; attempt <= 3; attempt++) {
    if (!(await useResponseUrl(deps.redis, deps.jobs.prefix, origin.responseUrl, data.submittedAt).catch(() => true))) {
      // Slack would refuse it: the result goes to the channel with the bot token instead, or only to the log and the job page.
      if (deps.web && !isPrivate) {
        await deps.web.chat.postMessage({ channel: origin.channel, text: msg.text, blocks: msg.blocks as never }).catch((err) => deps.log.warn({ jobId, err: (err as Error).message }, 'slack result not posted'));
        deps.log.info({ jobId }, 'slack result posted with the bot token (response_url used up or expired)');
      } else deps.log.warn({ jobId }, 'slack result not delivered: response_url used up (5 uses) or older than 30 minutes; the job page has it');
      return;
    }
    try {
      const res = await fetch(origin.responseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
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

/** The job's whole output as the docker CLI printed it, ANSI stripped, for the file in the thread. */
function fullOutput(entries: LogEntry[], result: JobResult | null): string {
  const logged = entries.filter((e) => e.s !== 'progress').map((e) => e.t).join('');
  const rest = result?.stdout ?? '';
  // A streamed job logged its output as it came (the result holds only what was not streamed);
  // otherwise stdout is in the result and the log holds stderr, which docker prints last.
  return stripAnsi(result?.streamed ? logged + rest : rest + logged);
}

/** files.uploadV2: getUploadURLExternal, the bytes to the returned URL, completeUploadExternal into the thread. */
async function uploadToThread(deps: SlackReporterDeps, jobId: string, data: JobData, channel: string, ts: string, file: { name: string; text: string }): Promise<boolean> {
  try {
    await deps.web!.filesUploadV2({ channel_id: channel, thread_ts: ts, content: file.text, filename: file.name, title: `docker ${data.command}`.slice(0, 250) });
    deps.log.info({ jobId, bytes: Buffer.byteLength(file.text) }, 'slack output uploaded to the thread');
    return true;
  } catch (err) {
    deps.log.warn({ jobId, err: (err as Error).message }, 'slack file upload failed; the message links to the log only');
    return false;
  }
}

/** A response_url may be used 5 times within 30 minutes of the command (Slack's rule). */
export const RESPONSE_URL_USES = 5;
export const RESPONSE_URL_TTL_MS = 30 * 60_000;

/**
 * Counts one use of a response_url in Redis (shared by every API process) and says whether Slack
 * still accepts it: at most 5 uses, within 30 minutes of the command.
 */
export async function useResponseUrl(redis: Redis, prefix: string, url: string, submittedAt: number, now = Date.now()): Promise<boolean> {
  if (now - submittedAt >= RESPONSE_URL_TTL_MS) return false;
  const key = `${prefix}:slack-response-url:${createHash('sha256').update(url).digest('hex').slice(0, 32)}`;
  const n = await redis.incr(key);
  if (n === 1) await redis.pexpire(key, RESPONSE_URL_TTL_MS);
  return n <= RESPONSE_URL_USES;
}

/** Removes the "queued" line the slash command's ack left (its response_url can), if a use is left. */
async function deleteOriginal(deps: SlackReporterDeps, responseUrl: string, submittedAt: number) {
  if (!(await useResponseUrl(deps.redis, deps.jobs.prefix, responseUrl, submittedAt).catch(() => false))) return;
  await fetch(responseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ delete_original: true }) }).catch(() => undefined);
}

function liveKey(deps: SlackReporterDeps, jobId: string) {
  return `${deps.jobs.prefix}:slack-live:${jobId}`;
}

/** Renders the job's progress and output tail into its live message, at most once a second. */
function scheduleUpdate(deps: SlackReporterDeps, jobId: string, progress?: unknown) {
  const l = live.get(jobId);
  if (!l || !deps.web) return;
  const due = l.lastUpdate + UPDATE_EVERY_MS - Date.now();
  if (l.timer) return; // an update is already coming
  l.timer = setTimeout(() => {
    l.timer = undefined;
    l.chain = l.chain.then(async () => {
      // Updates queue behind each other (a 429 retry included): space them from the last one sent.
      await sleep(Math.max(0, l.lastUpdate + UPDATE_EVERY_MS - Date.now()));
      if (!live.has(jobId)) return;
      const job = await deps.jobs.get(jobId);
      if (!job) return;
      const data = job.data as JobData;
      const { entries } = await deps.jobs.logs(jobId, 0);
      const tail = entries.map((e) => e.t).join('').slice(-4000);
      const msg = progressMessage({ command: data.command, id: jobId, host: data.host, elapsedMs: Date.now() - l.started }, progress ?? job.progress, tail);
      msg.blocks.push(cancelButton(jobId));
      if (!live.has(jobId)) return;
      if (!l.ts) {
        const r = await deps.web!.chat.postMessage({ channel: l.channel, text: msg.text, blocks: msg.blocks as never });
        l.ts = r.ts;
      } else {
        await deps.web!.chat.update({ channel: l.channel, ts: l.ts, text: msg.text, blocks: msg.blocks as never });
      }
      l.lastUpdate = Date.now();
    }).catch((err) => deps.log.warn({ jobId, err: (err as Error).message }, 'slack live update failed'));
  }, Math.max(0, due));
}

/** A Slack job became active: if it is still running after `liveAfterMs`, it gets a live message. */
async function onActive(deps: SlackReporterDeps, jobId: string) {
  if (!deps.web) return;
  const job = await deps.jobs.get(jobId);
  const data = job?.data as JobData | undefined;
  if (data?.origin?.door !== 'slack') return;
  // A live message is in the channel: not for answers meant for the asker only.
  if (commandForKind(data.spec.kind)?.private) return;
  const channel = data.origin.channel;
  setTimeout(async () => {
    const state = await (await deps.jobs.get(jobId))?.getState();
    if (state !== 'active') return;
    const claimed = await deps.redis.set(liveKey(deps, jobId), String(process.pid), 'EX', 86_400, 'NX');
    if (claimed !== 'OK') return;
    const l: Live = { channel, lastUpdate: 0, started: Date.now() - (deps.liveAfterMs ?? 2000), chain: Promise.resolve() };
    live.set(jobId, l);
    l.tick = setInterval(() => scheduleUpdate(deps, jobId), 2 * UPDATE_EVERY_MS);
    l.tick.unref();
    scheduleUpdate(deps, jobId);
  }, deps.liveAfterMs ?? 2000).unref();
}

/** Listens to every host queue's finished jobs and reports the Slack ones. */
export async function startSlackReporter(deps: SlackReporterDeps) {
  return listenToJobEvents(deps.jobs, deps.redis, {
    finished: (jobId) => reportToSlack(deps, jobId).catch((err) => deps.log.error({ err, jobId }, 'slack report failed')),
    active: (jobId) => onActive(deps, jobId).catch((err) => deps.log.warn({ err, jobId }, 'slack live message failed')),
    progress: (jobId, data) => {
      if (live.has(jobId)) scheduleUpdate(deps, jobId, data);
    },
  });
}
