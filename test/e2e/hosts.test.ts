import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import type Docker from 'dockerode';
import { api, BIN, cli, ROOT, startService, startWorkerProcess, type Service } from '../support/service.js';
import { blockAction, postSigned, slashCommand, standInSlack } from '../support/slack.js';
import { DOCKER_HOST, DOCKER_HOST_B, docker, dockerB, dropPrefix, redis, uniqueName } from '../support/env.js';

/**
 * Two real engines on one machine (`scripts/stack.sh up` starts engine b next to the first):
 * `--host b` runs on engine b only, `hosts` shows both, a host with no live worker is said so in
 * every door, a killed worker of b leaves host local alone, and engine b restarted under a job
 * fails the job with docker's words and the same command run again works. Only engine b is ever
 * restarted: the first engine is shared with everyone's tests.
 */
const HOSTS = `local=${DOCKER_HOST},b=${DOCKER_HOST_B}`;
const SECRET = 'slack-signing-secret-for-hosts-0123456789';
const run = promisify(execFile);
let svc: Service;
let slack: Awaited<ReturnType<typeof standInSlack>>;
const local = docker();
const b = dockerB();

type HostRow = { Name: string; Engine: string; APIVersion: string; Workers: number | string; Waiting: number; Active: number; Delayed: number; Error: string; Default: boolean };

async function hostRows(s: Pick<Service, 'url' | 'token'>): Promise<HostRow[]> {
  const r = await cli(s, ['hosts', '--format', '{{json .}}']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as HostRow);
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, tries = 200): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function labelled(d: Docker, label: string) {
  return d.listContainers({ all: true, filters: { label: [label] } });
}

async function removeLabelled(label: string) {
  for (const d of [local, b]) {
    for (const c of await labelled(d, label).catch(() => [])) await d.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
}

before(async () => {
  await b.ping(); // engine b is part of the stack: run `scripts/stack.sh up`
  // A third host whose engine is not there: `hosts` says why instead of failing.
  slack = await standInSlack();
  svc = await startService({
    DOCKOPS_DOCKER_HOSTS: `${HOSTS},gone=unix:///run/dockops/no-such-engine.sock`,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: `${slack.url}/api/`,
    SLACK_ALLOWED_CHANNELS: 'C0OPS',
    SLACK_DEFAULT_ROLE: 'operator',
  });
});

after(async () => {
  await svc?.stop();
  await slack?.close();
  const r = redis();
  await dropPrefix(r, svc.prefix);
  r.disconnect();
});

test('--host b runs on engine b only; `hosts` shows both engines with versions, workers and depth', async () => {
  const hi = await cli(svc, ['--host', 'b', 'run', '--rm', 'busybox', 'echo', 'hi']);
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(hi.stdout, 'hi\n');

  const name = uniqueName('on-b');
  const label = `test.hosts=${name}`;
  try {
    const made = await cli(svc, ['--host', 'b', 'run', '--name', name, '-l', label, 'busybox', 'echo', 'made on b']);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stdout, 'made on b\n');
    assert.equal((await labelled(b, label)).length, 1, 'the container is on engine b');
    assert.equal((await labelled(local, label)).length, 0, 'and not on the first engine');
    const ps = await cli(svc, ['--host', 'b', 'ps', '-a', '--filter', `label=${label}`, '--format', '{{.Names}}']);
    assert.equal(ps.stdout, `${name}\n`);
    const psLocal = await cli(svc, ['ps', '-a', '--filter', `label=${label}`, '--format', '{{.Names}}']);
    assert.equal(psLocal.stdout, '');
  } finally {
    await removeLabelled(label);
  }

  const table = await cli(svc, ['hosts']);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0], /^NAME\s+ENGINE\s+WORKERS\s+WAITING\s+ACTIVE\s+DELAYED\s+URL\s+ERROR$/);
  const [vLocal, vB] = await Promise.all([local.version(), b.version()]);
  assert.match(lines[1], new RegExp(`^local \\*\\s+${vLocal.Version.replace(/[.+]/g, '\\$&')}\\s+1\\s+0\\s+1\\s+0\\s+${DOCKER_HOST}\\s*$`), 'the hosts job itself is the one active job of local');
  assert.match(lines[2], new RegExp(`^b\\s+${vB.Version.replace(/[.+]/g, '\\$&')}\\s+1\\s+0\\s+0\\s+0\\s+${DOCKER_HOST_B}\\s*$`));
  assert.match(lines[3], /^gone\s+-\s+1\s+0\s+0\s+0\s+unix:\/\/\/run\/dockops\/no-such-engine\.sock\s+Cannot connect to the Docker daemon \(connect ENOENT \/run\/dockops\/no-such-engine\.sock\)\. Is the docker daemon running\?$/);
  assert.equal(lines.length, 4);

  // A job running on b is counted as b's depth.
  const label2 = `test.hosts=${uniqueName('depth')}`;
  try {
    const sub = await api(svc, 'POST', '/api/jobs', { args: ['--host', 'b', 'run', '--rm', '-l', label2, 'busybox', 'sleep', '30'] });
    assert.equal(sub.status, 202);
    assert.equal(sub.body.warning, undefined, 'start runs a worker for every host');
    await until('the container on b', async () => (await labelled(b, label2)).length > 0);
    const rows = await hostRows(svc);
    const rowB = rows.find((r) => r.Name === 'b');
    assert.deepEqual({ workers: rowB?.Workers, active: rowB?.Active, engine: rowB?.Engine, api: rowB?.APIVersion, error: rowB?.Error }, { workers: 1, active: 1, engine: vB.Version, api: vB.ApiVersion, error: '' });
    assert.equal(rows.find((r) => r.Name === 'local')?.Default, true);
    await api(svc, 'POST', `/api/jobs/${sub.body.id}/cancel`);
  } finally {
    await removeLabelled(label2);
  }
});

test('a host with no live worker: the API, the CLI and Slack say so; a killed worker of b leaves local alone', async () => {
  const slack = await standInSlack();
  const serve = await startService({ DOCKOPS_DOCKER_HOSTS: HOSTS, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: `${slack.url}/api/`, SLACK_ALLOWED_CHANNELS: 'C0OPS', SLACK_DEFAULT_ROLE: 'operator' }, 'serve');
  const workerLocal = await startWorkerProcess(serve, 'local', { DOCKOPS_DOCKER_HOSTS: HOSTS });
  let workerB: Awaited<ReturnType<typeof startWorkerProcess>> | undefined;
  let follower: ReturnType<typeof spawn> | undefined;
  const label = `test.hosts=${uniqueName('kill-b')}`;
  try {
    await until('the local worker', async () => (await hostRows(serve)).find((r) => r.Name === 'local')?.Workers === 1);

    const sub = await api(serve, 'POST', '/api/jobs', { command: '--host b version --format {{.Server.Os}}' });
    assert.equal(sub.status, 202, JSON.stringify(sub.body));
    assert.equal(sub.body.warning, 'no worker is running for host "b": the job waits in the queue until one starts (dockops worker --host b)');

    // The CLI prints the warning, then follows the job like any other (Ctrl-C cancels it).
    const p = spawn(BIN, ['docker', '--host', 'b', 'ps'], { env: { ...process.env, DOCKOPS_API_URL: serve.url, DOCKOPS_TOKEN: serve.token }, stdio: ['ignore', 'ignore', 'pipe'] });
    follower = p;
    let stderr = '';
    p.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    await until('the CLI warning', async () => stderr.includes('\n') || p.exitCode !== null);
    assert.equal(stderr, 'dockops: no worker is running for host "b": the job waits in the queue until one starts (dockops worker --host b)\n');
    await new Promise((r) => {
      p.once('exit', r);
      p.kill('SIGINT');
    });

    const ack = await postSigned(serve.url, slashCommand({ text: '--host b version', channel: 'C0OPS', responseUrl: `${slack.url}/respond/nowork` }), SECRET);
    assert.equal(ack.status, 200);
    assert.match(ack.body.text, /`docker --host b version` · job b\.\S+\n:warning: no worker is running for host "b": the job waits in the queue until one starts \(dockops worker --host b\)$/);
    const none = await postSigned(serve.url, slashCommand({ text: 'version', channel: 'C0OPS', responseUrl: `${slack.url}/respond/served` }), SECRET);
    assert.doesNotMatch(none.body.text, /warning/, 'local has a worker');

    const rows = await hostRows(serve);
    const rowB = rows.find((r) => r.Name === 'b');
    assert.equal(rowB?.Workers, 0);
    assert.ok((rowB?.Waiting ?? 0) >= 2, `the jobs for b wait in its queue (waiting ${rowB?.Waiting})`);
    assert.match(rowB?.Engine ?? '', /^\d+\.\d+/, 'the engine answers even with no worker');

    // A worker for b starts: the waiting job runs.
    workerB = await startWorkerProcess(serve, 'b', { DOCKOPS_DOCKER_HOSTS: HOSTS });
    const done = await until('the waiting job', async () => {
      const j = await api(serve, 'GET', `/api/jobs/${sub.body.id}`);
      return j.body.state === 'completed' && j.body;
    });
    assert.equal(done.result.stdout, 'linux\n');

    // b's worker is killed in the middle of a job: host local goes on as if nothing happened.
    const long = await api(serve, 'POST', '/api/jobs', { args: ['--host', 'b', 'run', '--rm', '-l', label, 'busybox', 'sleep', '30'] });
    assert.equal(long.status, 202);
    await until('the container on b', async () => (await labelled(b, label)).length > 0);
    await workerB.stop('SIGKILL');
    const still = await cli(serve, ['run', '--rm', 'busybox', 'echo', 'local still works']);
    assert.equal(still.code, 0, still.stderr);
    assert.equal(still.stdout, 'local still works\n');
    const after = await until('b without a worker', async () => {
      const r = (await hostRows(serve)).find((x) => x.Name === 'b');
      return r?.Workers === 0 && r;
    });
    assert.equal(after.Active, 1, 'the dead worker\'s job is still counted until its lock lapses');
    const again = await api(serve, 'POST', '/api/jobs', { command: '--host b ps' });
    assert.match(again.body.warning, /no worker is running for host "b"/);
  } finally {
    if (follower && follower.exitCode === null && follower.signalCode === null) follower.kill('SIGKILL');
    await workerB?.stop('SIGKILL');
    await workerLocal.stop();
    await serve.stop();
    await slack.close();
    await removeLabelled(label);
    const r = redis();
    await dropPrefix(r, serve.prefix);
    r.disconnect();
  }
});

test('engine b restarted under running jobs: they fail in docker\'s words, the same command run again and Slack\'s Retry succeed', async () => {
  const label = `test.hosts=${uniqueName('restart-b')}`;
  const slackLabel = `test.hosts=${uniqueName('restart-b-slack')}`;
  // The engine stops its containers when it shuts down (after 10 s: sleep ignores SIGTERM as PID 1),
  // so the command must outlast that to be cut short.
  const args = ['--host', 'b', 'run', '--rm', '-l', label, 'busybox', 'sleep', '20'];
  try {
    const first = cli(svc, args);
    const ack = await postSigned(svc.url, slashCommand({ text: `--host b run --rm -l ${slackLabel} busybox sleep 20`, channel: 'C0OPS', responseUrl: `${slack.url}/respond/restart` }), SECRET);
    assert.equal(ack.status, 200);
    await until('the containers on b', async () => (await labelled(b, label)).some((c) => c.State === 'running') && (await labelled(b, slackLabel)).some((c) => c.State === 'running'));
    await run('bash', [path.join(ROOT, 'scripts/stack.sh'), 'restart-b'], { timeout: 120_000 });
    const r = await first;
    assert.notEqual(r.code, 0);
    // Depending on the moment, the engine cuts the job's wait or answers it (137) and is gone after.
    assert.match(r.stderr, /^dockops: job b\.\S+ failed: Cannot connect to the Docker daemon.*Is the docker daemon running\?\n$/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stdout, '');

    const retry = await cli(svc, args);
    assert.equal(retry.code, 0, retry.stderr);
    assert.equal(retry.stderr, '');

    // In Slack: the failure in the same words, and a Retry button that runs it again on b.
    const failed = await slack.next('/respond/restart', 60_000);
    assert.match(JSON.stringify(failed.body.blocks), /Cannot connect to the Docker daemon.*Is the docker daemon running\?/);
    const button = failed.body.blocks.find((x: { type: string }) => x.type === 'actions').elements.find((e: { action_id: string }) => e.action_id === 'dockops_retry');
    await postSigned(svc.url, blockAction({ actionId: 'dockops_retry', value: button.value, responseUrl: `${slack.url}/respond/restart-2` }), SECRET);
    const retried = await slack.next('/respond/restart-2');
    const newId = /job (b\.\S+)/.exec(retried.body.text)?.[1] as string;
    assert.ok(newId, retried.body.text);
    const done = await until('the retried job', async () => {
      const j = await api(svc, 'GET', `/api/jobs/${newId}`);
      return (j.body.state === 'completed' || j.body.state === 'failed') && j.body;
    }, 400);
    assert.equal(done.state, 'completed', done.error);
    assert.equal(done.exitCode, 0);
  } finally {
    if (!(await b.ping().then(() => true, () => false))) await run('bash', [path.join(ROOT, 'scripts/stack.sh'), 'restart-b'], { timeout: 120_000 });
    await removeLabelled(label);
    await removeLabelled(slackLabel);
  }
});
