import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { cli, startService, type Service } from '../support/service.js';
import { dockerCli, dropPrefix, redis, uniqueName } from '../support/env.js';
import { commitsOf, deliver, gitRepo, pushOf, removeBuildLeftovers, standInGithub } from '../support/github.js';

const SECRET = 'github-webhook-secret-for-build-tests';
const REPO = 'Codertocat/Hello-World';
const OTHER = 'Codertocat/Other-World';
let dir: string;
let svc: Service;
let github: Awaited<ReturnType<typeof standInGithub>>;
let hello: ReturnType<typeof gitRepo>;
let other: ReturnType<typeof gitRepo>;
let image: string;
let otherImage: string;
let r: Redis;
let q: Queue;

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
// A nonce makes each Dockerfile its own: no step comes from an earlier run's build cache.
const NONCE = randomUUID();
const SLOW = (word: string, secs: number) => `FROM busybox:latest\nRUN echo ${word} ${NONCE} > /which\nRUN sleep ${secs}\nRUN cat /which\n`;
const FAST = (word: string) => `FROM busybox:latest\nRUN echo ${word} ${NONCE} > /which\n`;

async function until<T>(what: string, get: () => Promise<T | undefined | false>, tries = 600): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await get();
    if (v) return v;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function finished(id: string): Promise<Job> {
  return until(`job ${id} to finish`, async () => {
    const job = await q.getJob(id);
    const state = await job?.getState();
    return state === 'completed' || state === 'failed' ? ((await q.getJob(id)) as Job) : undefined;
  });
}

/** Waits until a build has really started building (a build step is in its progress). */
async function building(id: string) {
  await until(`job ${id} to build`, async () => {
    const job = await q.getJob(id);
    return (await job?.getState()) === 'active' && (job?.progress as { step?: number })?.step ? true : undefined;
  });
}

async function logOf(id: string): Promise<string> {
  const { logs } = await q.getJobLogs(id, 0, -1, true);
  return logs.map((l) => (JSON.parse(l) as { t: string }).t).join('');
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-builds-'));
  hello = gitRepo(path.join(dir, 'Hello-World'));
  other = gitRepo(path.join(dir, 'Other-World'));
  image = `localhost:5000/${uniqueName('builds')}`;
  otherImage = `localhost:5000/${uniqueName('builds-other')}`;
  const jobs = path.join(dir, 'jobs');
  mkdirSync(jobs);
  writeFileSync(
    path.join(jobs, 'builds.yml'),
    [
      'builds:',
      `  - repository: ${REPO}`,
      `    source: file://${hello.dir}`,
      `    image: ${image}`,
      '    rules:',
      '      - type: branch',
      '        name: main',
      '        tag: latest',
      '      - type: branch',
      '        name: /^(dev|feature-.*)$/',
      "        tag: '{\\1}-{short_sha}'",
      '      - type: branch',
      '        name: slow',
      '        tag: slow',
      '        timeout: 8s',
      `  - repository: ${OTHER}`,
      `    source: file://${other.dir}`,
      `    image: ${otherImage}`,
      '    rules:',
      '      - type: branch',
      '        name: main',
      '        tag: latest',
      '',
    ].join('\n'),
  );
  github = await standInGithub();
  svc = await startService({
    GITHUB_WEBHOOK_SECRET: SECRET,
    GITHUB_TOKEN: 'ghp_test_token_for_the_stand_in',
    GITHUB_API_URL: github.url,
    DOCKOPS_JOBS_DIR: jobs,
    DOCKOPS_BUILD_CONCURRENCY: '2',
  });
  r = redis();
  q = new Queue('jobs-local', { connection: r, prefix: svc.prefix });
});

after(async () => {
  await svc?.stop();
  await github?.close();
  await q?.close();
  if (r) {
    await dropPrefix(r, svc.prefix);
    r.disconnect();
  }
  const mine = dockerCli(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n').filter((t) => t.startsWith(`${image}:`) || t.startsWith(`${otherImage}:`));
  if (mine.length) dockerCli(['rmi', '-f', ...mine]);
  if (hello && other) removeBuildLeftovers({ shas: [...commitsOf(hello.dir), ...commitsOf(other.dir)], nonce: NONCE });
  rmSync(dir, { recursive: true, force: true });
});

test('a newer push to the same branch cancels the running build it supersedes, and says so', async () => {
  const first = hello.commit({ Dockerfile: SLOW('first', 60) }, 'first');
  const a = await deliver(svc.url, SECRET, 'push', pushOf({ ref: 'refs/heads/main', after: first }));
  assert.equal(a.status, 202);
  const [jobA] = a.body.jobs as string[];
  await building(jobA);
  const second = hello.commit({ Dockerfile: FAST('second') }, 'second');
  const b = await deliver(svc.url, SECRET, 'push', pushOf({ ref: 'refs/heads/main', after: second }));
  assert.equal(b.status, 202);
  assert.deepEqual(b.body.superseded, [jobA], 'the answer names the build it replaced');
  const [jobB] = b.body.jobs as string[];

  const doneA = await finished(jobA);
  assert.equal(await doneA.getState(), 'failed');
  assert.equal(doneA.failedReason, `cancelled: superseded by ${second}`);
  assert.match(await logOf(jobA), new RegExp(`dockops: build cancelled: superseded by ${second}`));
  const doneB = await finished(jobB);
  assert.equal(await doneB.getState(), 'completed', doneB.failedReason);
  assert.equal((doneB.returnvalue as { exitCode: number }).exitCode, 0);
  const revision = dockerCli(['image', 'inspect', '-f', '{{index .Config.Labels "org.opencontainers.image.revision"}}', `${image}:latest`]).stdout.trim();
  assert.equal(revision, second, 'latest is the newer commit');

  // The older commit's status says it was superseded, not that it failed.
  await until('the superseded status', async () => github.statuses.some((s) => s.path.endsWith(`/statuses/${first}`) && s.body.state === 'error'));
  const forFirst = github.statuses.filter((s) => s.path === `POST /repos/${REPO}/statuses/${first}`);
  assert.equal(forFirst.at(-1)?.body.description, `superseded by ${second.slice(0, 7)}`);
});

test('builds of one repository run one at a time; a queued build that is superseded is removed', async () => {
  const dev = hello.commit({ Dockerfile: SLOW('dev', 3) }, 'dev', 'dev');
  const c = await deliver(svc.url, SECRET, 'push', pushOf({ ref: 'refs/heads/dev', after: dev }));
  const [jobC] = c.body.jobs as string[];
  await building(jobC);

  const d1sha = hello.commit({ Dockerfile: FAST('d1') }, 'd1', 'main');
  const d1 = await deliver(svc.url, SECRET, 'push', pushOf({ ref: 'refs/heads/main', after: d1sha }));
  const [jobD1] = d1.body.jobs as string[];
  // It waits for the build of its repository (the limit of 2 is not what holds it).
  await until(`job ${jobD1} to wait`, async () => (await logOf(jobD1)).includes(`waiting for the build of ${REPO} in job ${jobC}`) && (await (await q.getJob(jobD1))?.getState()) === 'delayed');
  assert.equal(await (await q.getJob(jobC))?.getState(), 'active', 'held while the build of its repository runs');

  const d2sha = hello.commit({ Dockerfile: FAST('d2') }, 'd2', 'main');
  const d2 = await deliver(svc.url, SECRET, 'push', pushOf({ ref: 'refs/heads/main', after: d2sha }));
  assert.deepEqual(d2.body.superseded, [jobD1]);
  const [jobD2] = d2.body.jobs as string[];
  assert.equal(await q.getJob(jobD1), undefined, 'the queued build is removed from the queue');

  const doneC = await finished(jobC);
  const doneD2 = await finished(jobD2);
  assert.equal((doneC.returnvalue as { exitCode: number }).exitCode, 0, await logOf(jobC));
  assert.equal((doneD2.returnvalue as { exitCode: number }).exitCode, 0, await logOf(jobD2));
  // It was held while C built (seen above: delayed while C was active), and ran after C started.
  // (C frees its place when its build ends, a moment before BullMQ stamps C finished.)
  assert.ok((doneD2.processedOn ?? 0) > (doneC.processedOn ?? Infinity), 'the second build of the repository ran after the first');

  // What people see: builds ls (from the CLI door, as from every door).
  const ls = await cli(svc, ['builds', 'ls', '--repo', REPO]);
  assert.equal(ls.code, 0, ls.stderr);
  const lines = ls.stdout.trim().split('\n');
  assert.match(lines[0], /^BUILD ID\s+REPOSITORY\s+REF\s+COMMIT\s+STATE\s+TAGS\s+DIGEST\s+DURATION\s+CREATED$/);
  const rowOf = (id: string) => lines.find((l) => l.startsWith(`${id} `)) ?? '';
  assert.match(rowOf(jobD2), new RegExp(`${REPO}\\s+main\\s+${d2sha.slice(0, 7)}\\s+pushed\\s+latest\\s+sha256:[0-9a-f]{12}\\s+\\d+s\\s+`));
  assert.match(rowOf(jobD1), new RegExp(`main\\s+${d1sha.slice(0, 7)}\\s+superseded by ${d2sha.slice(0, 7)}\\s+latest`));
  assert.match(rowOf(jobC), new RegExp(`dev\\s+${dev.slice(0, 7)}\\s+pushed\\s+dev-${dev.slice(0, 7)}`));
  assert.ok(lines.indexOf(rowOf(jobD2)) < lines.indexOf(rowOf(jobC)), 'newest first');
  const limited = await cli(svc, ['builds', 'ls', '-q', '--limit', '2']);
  assert.deepEqual(limited.stdout.trim().split('\n'), [jobD2, jobD1]);

  const logs = await cli(svc, ['builds', 'logs', jobC]);
  assert.equal(logs.code, 0);
  assert.match(logs.stdout, /Step 3\/\d+ : RUN sleep 3/);
  assert.match(logs.stdout, new RegExp(`${image.replace(/[.]/g, '\\.')}:dev-${dev.slice(0, 7)}`));
  const never = await cli(svc, ['builds', 'logs', jobD1]);
  assert.equal(never.code, 0);
  assert.match(never.stderr, new RegExp(`never ran: superseded by ${d2sha}`));
  const missing = await cli(svc, ['builds', 'logs', 'local.nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such build: local\.nope/);
});

test('different repositories build at the same time, up to DOCKOPS_BUILD_CONCURRENCY', async () => {
  const x = hello.commit({ Dockerfile: SLOW('x', 3) }, 'x', 'main');
  const y = other.commit({ Dockerfile: SLOW('y', 3) }, 'y');
  const [jobX] = (await deliver(svc.url, SECRET, 'push', pushOf({ ref: 'refs/heads/main', after: x }))).body.jobs as string[];
  const [jobY] = (await deliver(svc.url, SECRET, 'push', pushOf({ ref: 'refs/heads/main', after: y, fullName: OTHER }))).body.jobs as string[];
  const [doneX, doneY] = await Promise.all([finished(jobX), finished(jobY)]);
  assert.equal((doneX.returnvalue as { exitCode: number }).exitCode, 0);
  assert.equal((doneY.returnvalue as { exitCode: number }).exitCode, 0);
  assert.ok((doneY.processedOn ?? Infinity) < (doneX.finishedOn ?? 0) && (doneX.processedOn ?? Infinity) < (doneY.finishedOn ?? 0), 'the two builds overlapped');
  assert.doesNotMatch(await logOf(jobY), /waiting for/);
});

test('builds preview: which rule matches and the tags it would push, without building', async () => {
  const before = await q.getJobCounts();
  const p = await cli(svc, ['builds', 'preview', REPO, 'dev', '--sha', 'abcdef0123456789abcdef0123456789abcdef01']);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, new RegExp(`^A push of dev at abcdef0 to ${REPO} would build 1 image \\(host default\\):\\n`));
  assert.match(p.stdout, /RULE\s+SOURCE\s+TAGS\s+CONTEXT\s+PUSH\s+REDEPLOY\s+PATHS/);
  assert.match(p.stdout, new RegExp(`2\\s+branch /\\^\\(dev\\|feature-\\.\\*\\)\\$/\\s+${image.replace(/[.]/g, '\\.')}:dev-abcdef0\\s+\\.\\s+yes\\s+no\\s+\\*`));
  const noSha = await cli(svc, ['builds', 'preview', REPO, 'refs/heads/feature-x']);
  assert.match(noSha.stdout, /:feature-x-<short_sha>/);
  const none = await cli(svc, ['builds', 'preview', REPO, 'release']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no build rule of Codertocat\/Hello-World matches release \(its rules: 1: branch main; 2: branch \/\^\(dev\|feature-\.\*\)\$\/; 3: branch slow\); a push of it builds nothing/);
  // A rule's timeout, or the worker's default.
  assert.equal((await cli(svc, ['builds', 'preview', REPO, 'slow', '--format', '{{.Rule}} {{.Timeout}}'])).stdout, '3 8s\n');
  assert.equal((await cli(svc, ['builds', 'preview', REPO, 'dev', '--format', '{{.Timeout}}'])).stdout, 'default\n');
  const unknown = await cli(svc, ['builds', 'preview', 'acme/nothing', 'main']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no build rules for acme\/nothing/);
  const after = await q.getJobCounts();
  assert.equal(after.delayed, before.delayed);
  const builds = (await q.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed'])).filter((j) => j.name === 'autobuild');
  assert.equal(builds.length, 6, 'no build was started by a preview');
});

test("a build over its rule's timeout fails as timed out: the engine stops it, no container is left, the repository is free at once", async () => {
  const slow = hello.commit({ Dockerfile: SLOW('timeout', 61) }, 'too slow', 'slow');
  const res = await deliver(svc.url, SECRET, 'push', pushOf({ ref: 'refs/heads/slow', after: slow }));
  assert.equal(res.status, 202);
  const [job] = res.body.jobs as string[];
  const done = await finished(job);
  assert.equal(await done.getState(), 'completed', done.failedReason);
  assert.equal((done.returnvalue as { exitCode: number }).exitCode, 1);
  const log = await logOf(job);
  assert.match(log, /Step 3\/\d+ : RUN sleep 61/, 'it was building');
  assert.match(log, /dockops: build timed out after 8s \(the rule's timeout in jobs\/\*\.yml, else DOCKOPS_BUILD_TIMEOUT_MS\); nothing was pushed after that\n/);
  assert.ok((done.finishedOn ?? Infinity) - (done.processedOn ?? 0) < 60_000, 'ended by the timeout, not by the step');
  await until('the step container to be gone', async () => !dockerCli(['ps', '-a', '--no-trunc', '--format', '{{.Command}}']).stdout.includes('sleep 61'));
  await until('the failed status', async () => github.statuses.some((s) => s.path === `POST /repos/${REPO}/statuses/${slow}` && s.body.state === 'failure'));

  // The repository's build lock went with it: the next build goes at once, waiting for nothing.
  const next = hello.commit({ Dockerfile: FAST('after-timeout') }, 'after the timeout', 'main');
  const [nextJob] = (await deliver(svc.url, SECRET, 'push', pushOf({ ref: 'refs/heads/main', after: next }))).body.jobs as string[];
  const nextDone = await finished(nextJob);
  assert.equal((nextDone.returnvalue as { exitCode: number }).exitCode, 0, await logOf(nextJob));
  assert.doesNotMatch(await logOf(nextJob), /queued: waiting/);
});
