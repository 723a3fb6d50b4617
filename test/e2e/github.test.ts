import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';
import { Queue } from 'bullmq';
import { api, finishedJob, startService, type Service } from '../support/service.js';
import { dockerCli, dropPrefix, redis, uniqueName } from '../support/env.js';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples') as Array<{ name: string; examples: Array<Record<string, any>> }>; // eslint-disable-line @typescript-eslint/no-explicit-any
const realPush = (i: number) => structuredClone(examples.find((e) => e.name === 'push')!.examples[i]);
const realPing = () => structuredClone(examples.find((e) => e.name === 'ping')!.examples[0]);

const SECRET = 'github-webhook-secret-for-tests';
let dir: string;
let sha: string;
let svc: Service;
let image: string;
let tagImage: string;
const statuses: Array<{ path: string; body: any }> = []; // eslint-disable-line @typescript-eslint/no-explicit-any
let github: http.Server;

async function deliver(event: string, payload: unknown, opts: { delivery?: string; secret?: string } = {}) {
  const body = JSON.stringify(payload);
  const res = await fetch(`${svc.url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': opts.delivery ?? randomUUID(),
      'x-hub-signature-256': await sign(opts.secret ?? SECRET, body),
      'user-agent': 'GitHub-Hookshot/test',
    },
    body,
  });
  return { status: res.status, body: await res.json() };
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-gh-'));
  // The repository GitHub would send us: a real git repo with a Dockerfile, built offline from busybox.
  const repo = path.join(dir, 'Hello-World');
  mkdirSync(repo);
  writeFileSync(path.join(repo, 'Dockerfile'), 'FROM busybox:latest\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt\n');
  writeFileSync(path.join(repo, 'hello.txt'), 'hello from the commit\n');
  writeFileSync(path.join(repo, '.dockerignore'), 'secret.txt\n');
  writeFileSync(path.join(repo, 'secret.txt'), 'never in the context\n');
  const git = (...a: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-qm', 'first');
  sha = git('rev-parse', 'HEAD');
  image = `localhost:5000/${uniqueName('gh')}`;
  tagImage = `localhost:5000/${uniqueName('ghtag')}`;
  const jobs = path.join(dir, 'jobs');
  mkdirSync(jobs);
  writeFileSync(
    path.join(jobs, 'builds.yml'),
    `builds:\n  - repository: Codertocat/Hello-World\n    source: file://${repo}\n    image: ${image}\n    rules:\n      - type: branch\n        name: main\n        tag: latest\n      - type: branch\n        name: main\n        tag: "{short_sha}"\n` +
      // Tag builds with semver tags, and a registry nothing listens on.
      `  - repository: Codertocat/Tagged\n    source: file://${repo}\n    image: ${tagImage}\n    rules:\n      - type: tag\n        name: /^v\\d+\\.\\d+\\.\\d+.*$/\n        semver: true\n` +
      `  - repository: Codertocat/Unreachable\n    source: file://${repo}\n    image: 127.0.0.1:1/dockops-test/unreachable\n    rules:\n      - type: branch\n        name: main\n        tag: latest\n`,
  );
  // A stand-in for api.github.com, answering commit statuses as GitHub does.
  github = http.createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      statuses.push({ path: `${req.method} ${req.url}`, body: JSON.parse(b || '{}') });
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: statuses.length, state: JSON.parse(b || '{}').state }));
    });
  });
  await new Promise<void>((r) => github.listen(0, '127.0.0.1', r));
  svc = await startService({
    GITHUB_WEBHOOK_SECRET: `old-secret-0000,${SECRET}`,
    GITHUB_TOKEN: 'ghp_test_token_for_the_stand_in',
    GITHUB_API_URL: `http://127.0.0.1:${(github.address() as { port: number }).port}`,
    DOCKOPS_JOBS_DIR: jobs,
  });
});

after(async () => {
  await svc.stop();
  github.close();
  const r = redis();
  await dropPrefix(r, svc.prefix);
  r.disconnect();
  dockerCli(['rmi', `${image}:latest`, `${image}:${sha.slice(0, 7)}`]);
  dockerCli(['rmi', ...['v1.2.3', '1.2.3', '1.2', '1', 'latest'].map((t) => `${tagImage}:${t}`)]);
  dockerCli(['rmi', '127.0.0.1:1/dockops-test/unreachable:latest']);
  rmSync(dir, { recursive: true, force: true });
});

test('a real push payload builds the exact commit, tags, pushes, and sets the commit status', async () => {
  const payload = realPush(4);
  payload.ref = 'refs/heads/main';
  payload.after = sha;
  const delivery = randomUUID();
  const res = await deliver('push', payload, { delivery });
  assert.equal(res.status, 202);
  assert.equal(res.body.jobs.length, 2, 'two rules match');
  const r = redis();
  const q = new Queue('jobs-local', { connection: r, prefix: svc.prefix });
  for (const id of res.body.jobs) {
    const { state, job } = await finishedJob(q, id);
    assert.equal(state, 'completed', job?.failedReason);
    assert.equal((job?.returnvalue as { exitCode: number }).exitCode, 0, (job?.returnvalue as { stderr: string }).stderr);
  }
  const tags = await (await fetch(`http://127.0.0.1:5000/v2/${image.replace('localhost:5000/', '')}/tags/list`)).json();
  assert.deepEqual([...tags.tags].sort(), [sha.slice(0, 7), 'latest'].sort());
  const labels = JSON.parse(dockerCli(['image', 'inspect', '-f', '{{json .Config.Labels}}', `${image}:latest`]).stdout);
  assert.equal(labels['org.opencontainers.image.revision'], sha);
  assert.equal(labels['org.opencontainers.image.source'], 'https://github.com/Codertocat/Hello-World');
  assert.equal(labels['org.opencontainers.image.version'], 'main');
  assert.equal(dockerCli(['run', '--rm', `${image}:latest`, 'cat', '/hello.txt']).stdout, 'hello from the commit\n');
  assert.notEqual(dockerCli(['run', '--rm', `${image}:latest`, 'ls', '/secret.txt']).status, 0, '.dockerignore honoured');
  // The redelivery of the same delivery is the same jobs, not new builds.
  const again = await deliver('push', payload, { delivery });
  assert.deepEqual(again.body.jobs, res.body.jobs);
  for (let i = 0; i < 50 && statuses.filter((s) => s.body.state !== 'pending').length < 2; i++) await new Promise((res2) => setTimeout(res2, 100));
  const mine = statuses.filter((s) => s.path === `POST /repos/Codertocat/Hello-World/statuses/${sha}`);
  assert.ok(mine.some((s) => s.body.state === 'pending'), 'pending while building');
  const done = mine.filter((s) => s.body.state === 'success');
  assert.equal(done.length, 2);
  assert.match(done[0].body.target_url, /\/api\/jobs\/local\./);
  assert.equal(done[0].body.context, 'dockops/build');
  await q.close();
  r.disconnect();
});

test('refused or ignored with a reason: bad signature, ping, other events, deletions, unmatched refs', async () => {
  const payload = realPush(4);
  payload.ref = 'refs/heads/main';
  payload.after = sha;
  const bad = await deliver('push', payload, { secret: 'wrong' });
  assert.equal(bad.status, 401);
  const ping = await deliver('ping', realPing());
  assert.equal(ping.status, 200);
  assert.equal(ping.body.ok, true);
  const issues = await deliver('issues', { action: 'opened' });
  assert.equal(issues.status, 202);
  assert.match(issues.body.ignored, /"issues" is not one/);
  const deletion = await deliver('push', realPush(1));
  assert.equal(deletion.status, 202);
  assert.match(deletion.body.ignored, /deletion builds nothing/);
  const other = realPush(4);
  other.ref = 'refs/heads/feature';
  const unmatched = await deliver('push', other);
  assert.match(unmatched.body.ignored, /no build rule matches refs\/heads\/feature of Codertocat\/Hello-World/);
  const big = await fetch(`${svc.url}/webhooks/github`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push' }, body: Buffer.alloc(26 * 1024 * 1024, 32) });
  assert.equal(big.status, 413);
});

/** Waits for a job on the service's queue to finish; returns it. */
async function finished(id: string) {
  const r = redis();
  const q = new Queue('jobs-local', { connection: r, prefix: svc.prefix });
  try {
    return (await finishedJob(q, id)).job;
  } finally {
    await q.close();
    r.disconnect();
  }
}

test('a tag push builds with semver tags; create, delete and release events are answered with a reason', async () => {
  const payload = realPush(4);
  payload.ref = 'refs/tags/v1.2.3';
  payload.after = sha;
  payload.repository.full_name = 'Codertocat/Tagged';
  const res = await deliver('push', payload);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.jobs.length, 1);
  const job = await finished(res.body.jobs[0]);
  assert.equal((job?.returnvalue as { exitCode: number }).exitCode, 0, (job?.returnvalue as { stderr: string })?.stderr);
  const tags = await (await fetch(`http://127.0.0.1:5000/v2/${tagImage.replace('localhost:5000/', '')}/tags/list`)).json();
  for (const t of ['1.2.3', '1.2', '1', 'latest']) assert.ok(tags.tags.includes(t), `tag ${t} pushed (got ${tags.tags.join(', ')})`);
  for (const event of ['create', 'delete', 'release']) {
    const ex = structuredClone(examples.find((e) => e.name === event)!.examples[0]);
    const answer = await deliver(event, ex);
    assert.equal(answer.status, 202, event);
    assert.match(answer.body.ignored, new RegExp(`"${event}" is not one`));
  }
});

test('an unreachable registry fails the build with the engine\'s words and a failure status on the commit', async () => {
  const payload = realPush(4);
  payload.ref = 'refs/heads/main';
  payload.after = sha;
  payload.repository.full_name = 'Codertocat/Unreachable';
  const before = statuses.length;
  const res = await deliver('push', payload);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const job = await finished(res.body.jobs[0]);
  const result = job?.returnvalue as { exitCode: number; stderr: string } | undefined;
  const logs = (await api(svc, 'GET', `/api/jobs/${res.body.jobs[0]}/logs`)).body.entries.map((e: { t: string }) => e.t).join('');
  assert.notEqual(result?.exitCode ?? 1, 0, 'the build did not succeed');
  assert.match(`${job?.failedReason ?? ''} ${result?.stderr ?? ''} ${logs}`, /127\.0\.0\.1:1|connection refused|connect/i);
  for (let i = 0; i < 50 && !statuses.slice(before).some((s) => s.body.state === 'failure' || s.body.state === 'error'); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(statuses.slice(before).some((s) => s.body.state === 'failure' || s.body.state === 'error'), 'the commit says it failed');
});
