import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { api, startService, type Service } from '../support/service.js';
import { blockAction, postSigned, standInSlack } from '../support/slack.js';
import { dockerCli, dropPrefix, redis, uniqueName } from '../support/env.js';
import { commitsOf, deliver, gitRepo, pushOf, removeBuildLeftovers } from '../support/github.js';

const GH_SECRET = 'github-webhook-secret-for-slack-builds';
const SLACK_SECRET = 'slack-signing-secret-for-build-messages-0123';
const REPO = 'Codertocat/Hello-World';
const CHANNEL = 'C0BUILDS';
let dir: string;
let svc: Service;
let slack: Awaited<ReturnType<typeof standInSlack>>;
let repo: ReturnType<typeof gitRepo>;
let image: string;

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
/** Makes each Dockerfile its own, so no build step comes from an earlier run's cache. */
const NONCE = randomUUID();

type Block = { type: string; text?: { text: string }; elements?: Array<{ text?: string; action_id?: string; value?: string }> };
interface Seen {
  ts: string;
  text: string;
  blocks: Block[];
  /** The whole message as a person reads it, buttons named in [brackets]. */
  shown: string;
  buttons: string[];
}

/** Every version of every build message, in the order the channel showed them, by message. */
function messages(): Map<string, Seen[]> {
  const byTs = new Map<string, Seen[]>();
  let posted = 0;
  const base = 1_700_000_000;
  for (const p of slack.posts) {
    if (p.path !== '/api/chat.postMessage' && p.path !== '/api/chat.update') continue;
    // The stand-in gives postMessage number n the ts base+n.
    const ts = p.path === '/api/chat.postMessage' ? `${base + posted++}.000100` : p.body.ts;
    if (p.path === '/api/chat.postMessage' && p.body.channel !== CHANNEL) continue;
    const blocks = JSON.parse(p.body.blocks) as Block[];
    const buttons = blocks.filter((b) => b.type === 'actions').flatMap((b) => (b.elements ?? []).map((e) => e.action_id ?? ''));
    const shown = blocks.map((b) => (b.type === 'actions' ? buttons.map((x) => `[${x}]`).join(' ') : b.text?.text ?? (b.elements ?? []).map((e) => e.text).join(' '))).join('\n');
    if (!byTs.has(ts)) byTs.set(ts, []);
    byTs.get(ts)!.push({ ts, text: p.body.text, blocks, shown, buttons });
  }
  return byTs;
}

/** The versions of the message of a build, found by its job ID. */
function messageOf(jobId: string): Seen[] {
  for (const versions of messages().values()) if (versions.some((v) => v.shown.includes(`job ${jobId} `))) return versions;
  return [];
}

/**
 * Waits for what `get` finds. Giving up, it says first where the job stood (its record, the end of
 * its log, the service's warnings) and then what Slack saw: CI keeps only the start of an error.
 */
async function until<T>(what: string, jobId: string, get: () => T | undefined | false | Promise<T | undefined | false>, tries = 900): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await get();
    if (v) return v;
    await sleep(100);
  }
  const job = await api(svc, 'GET', `/api/jobs/${jobId}`).catch((e: Error) => ({ body: e.message }));
  const logs = await api(svc, 'GET', `/api/jobs/${jobId}/logs`).catch(() => ({ body: { entries: [] } }));
  const tail = ((logs.body?.entries ?? []) as Array<{ t: string }>).map((e) => e.t).join('').split('\n').slice(-15).join('\n');
  const warnings = svc.logs().split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-10).join('\n');
  const containers = dockerCli(['ps', '-a', '--format', '{{.ID}} {{.Status}} {{.Command}}']).stdout;
  const shown = [...messages().values()].map((m) => m.at(-1)!.shown).join('\n\n');
  throw new Error(
    `timed out waiting for ${what} (job ${jobId})\njob: ${JSON.stringify(job.body)}\nits log ends:\n${tail}\nservice warnings:\n${warnings}\ncontainers:\n${containers}\nSlack shows:\n${shown}`,
  );
}

const last = (jobId: string) => messageOf(jobId).at(-1);

/** Where a message stands, from the words a person reads. */
function stateOf(v: Seen): string {
  const m = /:(hourglass_flowing_sand|building_construction|arrow_up|white_check_mark|x|fast_forward|no_entry_sign): (queued: waiting|queued|building|pushing|pushed|failed|superseded|cancelled)/.exec(v.shown);
  return m ? m[2] : 'unknown';
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-slack-builds-'));
  repo = gitRepo(path.join(dir, 'Hello-World'));
  image = `localhost:5000/${uniqueName('slack-builds')}`;
  const jobs = path.join(dir, 'jobs');
  mkdirSync(jobs);
  writeFileSync(
    path.join(jobs, 'builds.yml'),
    `builds:\n  - repository: ${REPO}\n    source: file://${repo.dir}\n    image: ${image}\n    slack_channel: ${CHANNEL}\n    rules:\n      - type: branch\n        name: main\n        tag: latest\n      - type: branch\n        name: dev\n        tag: dev\n`,
  );
  slack = await standInSlack();
  svc = await startService({
    GITHUB_WEBHOOK_SECRET: GH_SECRET,
    DOCKOPS_JOBS_DIR: jobs,
    SLACK_SIGNING_SECRET: SLACK_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-test-token-for-the-stand-in',
    SLACK_API_URL: `${slack.url}/api/`,
    SLACK_ALLOWED_CHANNELS: '*',
    SLACK_DEFAULT_ROLE: 'operator',
    DOCKOPS_PUBLIC_URL: 'https://dockops.example.com',
  });
});

after(async () => {
  await svc?.stop();
  await slack?.close();
  const r = redis();
  if (svc) await dropPrefix(r, svc.prefix);
  r.disconnect();
  const mine = dockerCli(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n').filter((t) => t.startsWith(`${image}:`));
  if (mine.length) dockerCli(['rmi', '-f', ...mine]);
  if (repo) removeBuildLeftovers({ shas: commitsOf(repo.dir), nonce: NONCE });
  rmSync(dir, { recursive: true, force: true });
});

test('one message per build: queued → building step k of n → pushed with tags and digest', async () => {
  const sha = repo.commit({ Dockerfile: `FROM busybox:latest\nRUN echo ${NONCE} > /one\nRUN sleep 2\nRUN echo two > /two\n` }, 'good');
  const res = await deliver(svc.url, GH_SECRET, 'push', pushOf({ ref: 'refs/heads/main', after: sha }));
  const [jobId] = res.body.jobs as string[];
  const final = await until('the pushed message', jobId, () => last(jobId) && stateOf(last(jobId)!) === 'pushed' && last(jobId));
  const versions = messageOf(jobId);
  assert.equal(slack.posts.filter((p) => p.path === '/api/chat.postMessage' && p.body.channel === CHANNEL && JSON.parse(p.body.blocks).some((b: Block) => JSON.stringify(b).includes(jobId))).length, 1, 'one message, then updates');
  const states = versions.map(stateOf);
  // What the channel showed, in order: never backwards, nothing else.
  const order = ['queued', 'building', 'pushing', 'pushed'];
  const at = states.map((s) => order.indexOf(s));
  assert.ok(at.every((i, k) => i >= 0 && (k === 0 || i >= at[k - 1])), states.join(' → '));
  assert.ok(['queued', 'building'].includes(states[0]), `first: ${states[0]}`);
  assert.ok(versions.some((v) => /:building_construction: building: step \d of \d+/.test(v.shown)), 'a build step was shown');
  for (const v of versions.slice(0, -1)) assert.deepEqual(v.buttons, ['dockops_cancel'], `${stateOf(v)} carries Cancel`);
  assert.match(final.shown, new RegExp(`^\\*${REPO}\\* \`main\` @ \`${sha.slice(0, 7)}\` → \`${image}:latest\``));
  assert.match(final.shown, new RegExp(`:white_check_mark: pushed \`${image}:latest\` · digest \`sha256:[0-9a-f]{64}\` · \\d+\\.\\d s`));
  assert.match(final.shown, new RegExp(`job ${jobId} on local · <https://dockops\\.example\\.com/jobs/${jobId}\\?expires=\\d+&sig=[0-9a-f]{64}\\|whole log>`));
  assert.deepEqual(final.buttons, [], 'nothing to cancel or retry');
  assert.equal(final.text, `build ${REPO}@main (${sha.slice(0, 7)}): pushed`);
});

test('a failed build shows the last 30 lines of its log, a link to all of it, and Retry; Retry builds again in a new message', async () => {
  const lines = Array.from({ length: 40 }, (_, i) => `echo output line ${i + 1}`).join('; ');
  const sha = repo.commit({ Dockerfile: `FROM busybox:latest\nRUN echo ${NONCE}\nRUN ${lines}; exit 3\n` }, 'bad');
  const res = await deliver(svc.url, GH_SECRET, 'push', pushOf({ ref: 'refs/heads/main', after: sha }));
  const [jobId] = res.body.jobs as string[];
  const failed = await until('the failed message', jobId, () => last(jobId) && stateOf(last(jobId)!) === 'failed' && last(jobId));
  assert.match(failed.shown, /:x: failed: The command '\/bin\/sh -c echo output line 1;.*' returned a non-zero code: 3/);
  const logBlock = failed.blocks.find((b) => b.type === 'section' && b.text?.text.startsWith('```'))?.text?.text ?? '';
  const shownLines = logBlock.replace(/^```|```$/g, '').split('\n');
  assert.equal(shownLines.length, 30, 'the last 30 lines of the log');
  assert.ok(shownLines.includes('output line 40'));
  assert.ok(!shownLines.includes('output line 5'), 'earlier lines are behind the link');
  assert.match(failed.shown, new RegExp(`<https://dockops\\.example\\.com/jobs/${jobId}\\?expires=\\d+&sig=[0-9a-f]{64}\\|whole log>`));
  assert.deepEqual(failed.buttons, ['dockops_retry']);
  const leftovers = dockerCli(['ps', '-a', '--no-trunc', '--format', '{{.Command}}']).stdout;
  assert.ok(!leftovers.includes('echo output line 40; exit 3'), 'the failed step left no container behind');
  const retry = failed.blocks.find((b) => b.type === 'actions')!.elements![0];
  assert.equal(retry.value, jobId);

  // A person clicks Retry: the same build runs again, reported in a message of its own.
  const click = await postSigned(svc.url, blockAction({ actionId: 'dockops_retry', value: jobId, channel: CHANNEL, responseUrl: `${slack.url}/respond/retry` }), SLACK_SECRET);
  assert.equal(click.status, 200);
  const said = await slack.next('/respond/retry');
  const again = /as job (\S+)\.$/.exec(said.body.text)?.[1];
  assert.ok(again && again !== jobId, said.body.text);
  assert.equal(said.body.replace_original, false, 'the failed build keeps its message');
  const second = await until('the retried build to fail', again, () => last(again) && stateOf(last(again)!) === 'failed' && last(again));
  assert.match(second.shown, new RegExp(`@ \`${sha.slice(0, 7)}\``));
  assert.equal(stateOf(last(jobId)!), 'failed', 'the first message is left as it was');
});

test('waiting for the repository, superseded while queued, cancelled while building: each message says so', async () => {
  const dev = repo.commit({ Dockerfile: `FROM busybox:latest\nRUN echo ${NONCE}\nRUN sleep 60\n` }, 'slow dev', 'dev');
  const [devJob] = (await deliver(svc.url, GH_SECRET, 'push', pushOf({ ref: 'refs/heads/dev', after: dev }))).body.jobs as string[];
  await until('the dev build to build', devJob, () => last(devJob) && stateOf(last(devJob)!) === 'building' && /step \d/.test(last(devJob)!.shown));

  const m1 = repo.commit({ Dockerfile: `FROM busybox:latest\nRUN echo ${NONCE} m1\n` }, 'm1', 'main');
  const [job1] = (await deliver(svc.url, GH_SECRET, 'push', pushOf({ ref: 'refs/heads/main', after: m1 }))).body.jobs as string[];
  const waiting = await until('the waiting message', job1, () => last(job1) && stateOf(last(job1)!) === 'queued: waiting' && last(job1));
  assert.match(waiting.shown, new RegExp(`queued: waiting for the build of ${REPO} in job ${devJob}`));
  assert.deepEqual(waiting.buttons, ['dockops_cancel']);

  const m2 = repo.commit({ Dockerfile: `FROM busybox:latest\nRUN echo ${NONCE} m2\n` }, 'm2', 'main');
  const [job2] = (await deliver(svc.url, GH_SECRET, 'push', pushOf({ ref: 'refs/heads/main', after: m2 }))).body.jobs as string[];
  const superseded = await until('the superseded message', job1, () => last(job1) && stateOf(last(job1)!) === 'superseded' && last(job1));
  assert.match(superseded.shown, new RegExp(`:fast_forward: superseded by \`${m2.slice(0, 7)}\`: a newer push to \`main\` replaced this build`));
  assert.deepEqual(superseded.buttons, []);

  // Cancel, clicked on the running build's message.
  const cancel = last(devJob)!.blocks.find((b) => b.type === 'actions')!.elements![0];
  assert.equal(cancel.value, devJob);
  const click = await postSigned(svc.url, blockAction({ actionId: 'dockops_cancel', value: devJob, channel: CHANNEL, responseUrl: `${slack.url}/respond/cancel` }), SLACK_SECRET);
  assert.equal(click.status, 200);
  const cancelled = await until('the cancelled message', devJob, () => last(devJob) && stateOf(last(devJob)!) === 'cancelled' && last(devJob));
  assert.deepEqual(cancelled.buttons, ['dockops_retry']);
  const pushed = await until('the newer main build to push', job2, () => last(job2) && stateOf(last(job2)!) === 'pushed' && last(job2));
  assert.match(pushed.shown, new RegExp(`@ \`${m2.slice(0, 7)}\``));
});
