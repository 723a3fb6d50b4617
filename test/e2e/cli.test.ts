import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, cli, startService, type Service } from '../support/service.js';
import { docker, dockerCli, redis, dropPrefix, uniqueName } from '../support/env.js';

let svc: Service;
const cleanup: string[] = [];

before(async () => {
  svc = await startService();
});
after(async () => {
  const d = docker();
  for (const n of cleanup) await d.getContainer(n).remove({ force: true }).catch(() => undefined);
  await svc.stop();
  const r = redis();
  await dropPrefix(r, svc.prefix);
  r.disconnect();
});

test('a docker command travels door → queue → worker → engine → back, with its exit code', async () => {
  const r = await cli(svc, ['run', '--rm', 'busybox', 'sh', '-c', 'echo hello; echo warn >&2; exit 4']);
  assert.equal(r.stdout, 'hello\n');
  assert.equal(r.stderr, 'warn\n');
  assert.equal(r.code, 4);
});

test('ps through the CLI prints what the docker CLI prints', async () => {
  const name = uniqueName('e2e');
  cleanup.push(name);
  const started = await cli(svc, ['run', '-d', '--name', name, 'busybox', 'sleep', '120']);
  assert.equal(started.code, 0, started.stderr);
  let ours = '';
  let theirs = '';
  for (let i = 0; i < 3; i++) {
    ours = (await cli(svc, ['ps', '--format', 'table {{.Names}}\t{{.Image}}\t{{.Command}}\t{{.Status}}'])).stdout;
    theirs = dockerCli(['ps', '--format', 'table {{.Names}}\t{{.Image}}\t{{.Command}}\t{{.Status}}']).stdout;
    if (ours === theirs) break;
  }
  assert.equal(ours, theirs);
  assert.match(ours, new RegExp(name));
});

test("the CLI exits with docker's codes: 125 usage, 1 unknown command and daemon error, 127 not found", async () => {
  const flag = await cli(svc, ['run', '--foo', 'busybox']);
  assert.equal(flag.code, 125);
  assert.equal(flag.stderr, "unknown flag: --foo\nSee 'docker run --help'.\n");
  const unknown = await cli(svc, ['frobnicate']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /'frobnicate' is not a docker command/);
  const missing = await cli(svc, ['logs', 'dockops-e2e-missing']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'Error: No such container: dockops-e2e-missing\n');
  const notFound = await cli(svc, ['run', '--rm', 'busybox', 'no-such-binary']);
  assert.equal(notFound.code, 127);
  const quote = await cli(svc, ['--help']);
  assert.equal(quote.code, 0);
  assert.match(quote.stdout, /Usage:  docker \[OPTIONS\] COMMAND/);
  const help = await cli(svc, ['ps', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage:  docker ps \[OPTIONS\]/);
});

test('the API refuses what it cannot trust, with a message a person can act on', async () => {
  const noToken = await api({ url: svc.url, token: '' }, 'POST', '/api/jobs', { command: 'ps' }, { authorization: '' });
  assert.equal(noToken.status, 401);
  assert.match(noToken.body.message, /missing bearer token/);
  const badToken = await api({ url: svc.url, token: 'wrong-token-0000000000' }, 'POST', '/api/jobs', { command: 'ps' });
  assert.equal(badToken.status, 401);
  assert.equal(badToken.body.message, 'invalid bearer token');
  const big = await api(svc, 'POST', '/api/jobs', { command: `ps ${'x'.repeat(64 * 1024)}` });
  assert.equal(big.status, 413);
  assert.match(big.body.message, /DOCKOPS_MAX_BODY_BYTES/);
  const long = await api(svc, 'POST', '/api/jobs', { command: `ps ${'x'.repeat(9000)}` });
  assert.equal(long.status, 400);
  assert.match(long.body.message, /too long/);
  const notJson = await api(svc, 'POST', '/api/jobs', '{"command":');
  assert.equal(notJson.status, 400);
  assert.match(notJson.body.message, /not valid JSON/);
  const both = await api(svc, 'POST', '/api/jobs', { command: 'ps', args: ['ps'] });
  assert.equal(both.status, 400);
  const injection = await api(svc, 'POST', '/api/jobs', { command: 'ps; rm -rf /' });
  assert.equal(injection.status, 400);
  assert.match(injection.body.message, /shell operator/);
  const policy = await api(svc, 'POST', '/api/jobs', { command: 'run --privileged busybox' });
  assert.equal(policy.status, 403);
  assert.match(policy.body.message, /DOCKOPS_ALLOW_PRIVILEGED/);
  const viaWords = await api(svc, 'POST', '/api/jobs', { command: '--host elsewhere ps' });
  assert.equal(viaWords.status, 400);
  assert.match(viaWords.body.message, /unknown host "elsewhere"/);
  const host = await api(svc, 'POST', '/api/jobs', { command: 'ps', host: 'elsewhere' });
  assert.equal(host.status, 400);
  assert.match(host.body.message, /unknown host "elsewhere"/);
  const missingJob = await api(svc, 'GET', '/api/jobs/local.nope');
  assert.equal(missingJob.status, 404);
});

test('the API: 202 with an id, the job view with exit code, its logs, and idempotency', async () => {
  const sub = await api(svc, 'POST', '/api/jobs', { command: `run --rm busybox sh -c 'echo a; echo b'` }, { 'idempotency-key': 'e2e-once' });
  assert.equal(sub.status, 202);
  assert.match(sub.body.id, /^local\./);
  const again = await api(svc, 'POST', '/api/jobs', { command: `run --rm busybox sh -c 'echo a; echo b'` }, { 'idempotency-key': 'e2e-once' });
  assert.equal(again.body.id, sub.body.id);
  const logs = await api(svc, 'GET', `/api/jobs/${sub.body.id}/logs?wait=10`);
  assert.equal(logs.status, 200);
  let view = (await api(svc, 'GET', `/api/jobs/${sub.body.id}`)).body;
  for (let i = 0; i < 100 && view.state !== 'completed'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    view = (await api(svc, 'GET', `/api/jobs/${sub.body.id}`)).body;
  }
  assert.equal(view.state, 'completed');
  assert.equal(view.exitCode, 0);
  assert.equal(view.kind, 'container.run');
  assert.deepEqual(view.origin, { door: 'api', token: 'e2e', ip: '127.0.0.1' });
  const all = await api(svc, 'GET', `/api/jobs/${sub.body.id}/logs`);
  assert.equal(all.body.entries.map((e: { t: string }) => e.t).join(''), 'a\nb\n');
  assert.equal(all.body.done, true);
});

test('health: /healthz answers, /readyz checks Redis and the engine', async () => {
  const h = await fetch(`${svc.url}/healthz`);
  assert.equal(h.status, 200);
  const r = await (await fetch(`${svc.url}/readyz`)).json();
  assert.deepEqual(r, { ready: true, checks: { redis: 'ok', 'docker:local': 'ok' } });
});

test('SIGTERM drains: a running job finishes before the process exits', async () => {
  const own = await startService();
  const sub = await api(own, 'POST', '/api/jobs', { command: `run --rm busybox sh -c 'sleep 2; echo finished'` });
  assert.equal(sub.status, 202);
  // Let the worker take the job, then ask the process to stop.
  for (let i = 0; i < 100; i++) {
    const v = await api(own, 'GET', `/api/jobs/${sub.body.id}`);
    if (v.body.state === 'active') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const code = await own.stop('SIGTERM');
  assert.equal(code, 0);
  const r = redis();
  const { Queue } = await import('bullmq');
  const q = new Queue('jobs-local', { connection: r, prefix: own.prefix });
  const job = await q.getJob(sub.body.id);
  assert.equal(await job?.getState(), 'completed');
  assert.equal((job?.returnvalue as { exitCode: number }).exitCode, 0);
  await q.close();
  await dropPrefix(r, own.prefix);
  r.disconnect();
  assert.match(own.logs(), /shutting down: draining jobs/);
});

test('a stopped Docker engine: the job fails with a clear message, the service stays up', async () => {
  const own = await startService({ DOCKER_HOST: 'unix:///run/dockops/no-such-engine.sock' });
  try {
    const r = await cli(own, ['ps']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot connect to the Docker daemon/);
    const ready = await fetch(`${own.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal((await fetch(`${own.url}/healthz`)).status, 200);
  } finally {
    await own.stop();
    const rr = redis();
    await dropPrefix(rr, own.prefix);
    rr.disconnect();
  }
});

test('the CLI says where the API is when it cannot reach it', async () => {
  const r = await cli({ url: 'http://127.0.0.1:1', token: 'x' }, ['ps']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot reach the dockops API at http:\/\/127\.0\.0\.1:1/);
});

test('a job for a host with no live worker says so instead of waiting silently', async () => {
  const own = await startService({ DOCKOPS_DOCKER_HOSTS: 'local=unix:///run/dockops/docker.sock,spare=unix:///run/dockops/docker.sock' });
  try {
    // `start` runs a worker for every configured host: no warning for either.
    const sub = await api(own, 'POST', '/api/jobs', { command: 'version', host: 'spare' });
    assert.equal(sub.status, 202);
    assert.equal(sub.body.warning, undefined);
  } finally {
    await own.stop();
    const r = redis();
    await dropPrefix(r, own.prefix);
    r.disconnect();
  }
  // `serve` runs no worker: the API says the job will wait.
  const { spawn } = await import('node:child_process');
  const { BIN } = await import('../support/service.js');
  const token = 'serve-only-token-0123456789';
  const prefix = `e2e-serve-${Date.now()}`;
  const proc = spawn(BIN, ['serve'], {
    env: { ...process.env, DOCKOPS_PORT: '0', DOCKOPS_ANNOUNCE: '1', DOCKOPS_API_TOKENS: `t:${token}`, DOCKOPS_QUEUE_PREFIX: prefix },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise<string>((resolve) => {
    let e = '';
    proc.stderr.on('data', (c: Buffer) => {
      e += c.toString();
      const m = /listening on (\S+)/.exec(e);
      if (m) resolve(m[1]);
    });
  });
  try {
    const sub = await api({ url, token }, 'POST', '/api/jobs', { command: 'version' });
    assert.equal(sub.status, 202);
    assert.match(sub.body.warning, /no worker is running for host "local"/);
  } finally {
    proc.kill('SIGTERM');
    const r = redis();
    await dropPrefix(r, prefix);
    r.disconnect();
  }
});

test('audit: every finished job and every refusal, newest first, without secrets', async () => {
  const ok = await cli(svc, ['version', '--format', '{{.Server.Os}}']);
  assert.equal(ok.code, 0);
  const refused = await api(svc, 'POST', '/api/jobs', { command: 'run --privileged busybox' });
  assert.equal(refused.status, 403);
  let entries: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 50; i++) {
    entries = (await api(svc, 'GET', '/api/audit?count=20')).body.entries;
    if (entries.some((e) => e.command === "version --format '{{.Server.Os}}'")) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const done = entries.find((e) => e.command === "version --format '{{.Server.Os}}'");
  assert.ok(done, 'the finished job is recorded');
  assert.equal(done.door, 'cli');
  assert.equal(done.outcome, 'completed');
  assert.equal(done.exitCode, 0);
  assert.equal(done.host, 'local');
  assert.match(String(done.who), /^e2e/);
  assert.equal(typeof done.ms, 'number');
  const no = entries.find((e) => e.command === 'run --privileged busybox');
  assert.ok(no, 'the refusal is recorded');
  assert.equal(no.outcome, 'refused');
  assert.match(String(no.reason), /refused by policy/);
  assert.ok(!JSON.stringify(entries).includes(svc.token), 'no token in the audit');
  const unauth = await api({ url: svc.url, token: 'nope-nope-nope-nope' }, 'GET', '/api/audit');
  assert.equal(unauth.status, 401);
});

test('a policy file limits what a token may run, and the CLI says why', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const os = await import('node:os');
  const p = await import('node:path');
  const d = mkdtempSync(p.join(os.tmpdir(), 'dockops-policy-'));
  const file = p.join(d, 'policy.yml');
  writeFileSync(file, 'grants:\n  - api_tokens: [e2e]\n    role: viewer\n');
  const own = await startService({ DOCKOPS_POLICY_FILE: file });
  try {
    const ps = await cli(own, ['ps']);
    assert.equal(ps.code, 0, ps.stderr);
    const stop = await cli(own, ['stop', 'anything']);
    assert.equal(stop.code, 125);
    assert.match(stop.stderr, /refused by policy: container stop needs the operator role; token "e2e" is viewer/);
  } finally {
    await own.stop();
    const r = redis();
    await dropPrefix(r, own.prefix);
    r.disconnect();
  }
});

test('POST /api/jobs?wait=S answers with the finished job and its output in one request', async () => {
  const r = await api(svc, 'POST', '/api/jobs?wait=30', { command: 'version --format {{.Server.Os}}' });
  assert.equal(r.status, 200);
  assert.equal(r.body.done, true);
  assert.equal(r.body.job.state, 'completed');
  assert.equal(r.body.job.result.exitCode, 0);
  assert.equal(r.body.job.result.stdout, 'linux\n');
  assert.ok(Array.isArray(r.body.entries));
  // Without wait, or past it, the job is only accepted.
  const later = await api(svc, 'POST', '/api/jobs', { command: 'version' });
  assert.equal(later.status, 202);
  assert.match(later.body.id, /^local\./);
});
