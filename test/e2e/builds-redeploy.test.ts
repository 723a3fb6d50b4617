import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { finishedJob, startService, type Service } from '../support/service.js';
import { DOCKER_CLI, DOCKER_HOST, dockerCli, dropPrefix, redis, uniqueName } from '../support/env.js';
import { deliver, gitRepo, pushOf } from '../support/github.js';

const SECRET = 'github-webhook-secret-for-redeploys';
const REPO = 'Codertocat/Hello-World';
let dir: string;
let svc: Service;
let repo: ReturnType<typeof gitRepo>;
let image: string;
let name: string;
let bystander: string;
let net1: string;
let net2: string;
let volume: string;
/** The image the service ran before any build (built by hand; a build takes its tag). */
let v1: string;
let r: Redis;
let q: Queue;

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
const inspect = (what: string) => JSON.parse(dockerCli(['inspect', what]).stdout)[0];
const SERVICE = (version: string, extra = '') => `FROM busybox:latest\nRUN echo ${version} > /version\n${extra}CMD ["sleep", "3600"]\n`;

function docker(args: string[], input?: string): string {
  return execFileSync(DOCKER_CLI, args, { env: { ...process.env, DOCKER_HOST }, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
}

const shas: string[] = [];

async function pushAndWait(sha: string): Promise<{ job: Job; log: string }> {
  shas.push(sha);
  const res = await deliver(svc.url, SECRET, 'push', pushOf({ ref: 'refs/heads/main', after: sha }));
  assert.equal(res.status, 202);
  const [id] = res.body.jobs as string[];
  for (let i = 0; i < 900; i++) {
    const state = await (await q.getJob(id))?.getState();
    if (state === 'completed' || state === 'failed') break;
    await sleep(100);
  }
  const job = (await q.getJob(id)) as Job;
  const { logs } = await q.getJobLogs(id, 0, -1, true);
  return { job, log: logs.map((l) => (JSON.parse(l) as { t: string }).t).join('') };
}

/** Containers whose names start with the service's name (the parked old one would show here). */
function namesLike(prefix: string): string[] {
  return dockerCli(['ps', '-a', '--format', '{{.Names}}']).stdout.split('\n').filter((n) => n.startsWith(prefix));
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-redeploy-'));
  repo = gitRepo(path.join(dir, 'Hello-World'));
  image = `localhost:5000/${uniqueName('redeploy')}`;
  name = uniqueName('web');
  bystander = uniqueName('pinned');
  net1 = uniqueName('net-a');
  net2 = uniqueName('net-b');
  volume = uniqueName('data');
  // What runs today: v1, started by hand with options of its own, labelled to follow the image.
  v1 = docker(['build', '-q', '-t', `${image}:latest`, '-'], SERVICE(`v1 ${randomUUID()}`));
  docker(['network', 'create', net1]);
  docker(['network', 'create', net2]);
  docker(['run', '-d', '--name', name, '--label', `dockops.redeploy=${image}`, '-e', 'FOO=bar', '-p', '127.0.0.1::8080', '-v', `${volume}:/data`, '--network', net1, '--network-alias', 'web', '--restart', 'unless-stopped', `${image}:latest`]);
  docker(['network', 'connect', net2, name]);
  docker(['exec', name, 'sh', '-c', 'echo kept > /data/file']);
  // Labelled with another tag: a push of :latest leaves it alone.
  docker(['run', '-d', '--name', bystander, '--label', `dockops.redeploy=${image}:pinned`, `${image}:latest`]);
  const jobs = path.join(dir, 'jobs');
  mkdirSync(jobs);
  writeFileSync(
    path.join(jobs, 'builds.yml'),
    `builds:\n  - repository: ${REPO}\n    source: file://${repo.dir}\n    image: ${image}\n    rules:\n      - type: branch\n        name: main\n        tag: latest\n        redeploy: true\n`,
  );
  svc = await startService({ GITHUB_WEBHOOK_SECRET: SECRET, DOCKOPS_JOBS_DIR: jobs, DOCKOPS_REDEPLOY_WAIT_MS: '3000' });
  r = redis();
  q = new Queue('jobs-local', { connection: r, prefix: svc.prefix });
});

after(async () => {
  await svc?.stop();
  await q?.close();
  if (r) {
    await dropPrefix(r, svc.prefix);
    r.disconnect();
  }
  const containers = [...namesLike(name), bystander];
  dockerCli(['rm', '-f', ...containers]);
  dockerCli(['network', 'rm', net1, net2]);
  dockerCli(['volume', 'rm', volume]);
  const mine = dockerCli(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n').filter((t) => t.startsWith(`${image}:`));
  if (mine.length) dockerCli(['rmi', '-f', ...mine]);
  if (v1) dockerCli(['rmi', v1]);
  // Earlier builds of these commits, untagged by later ones: each labelled with its own commit.
  for (const sha of shas) dockerCli(['image', 'prune', '-f', '--filter', `label=org.opencontainers.image.revision=${sha}`]);
  rmSync(dir, { recursive: true, force: true });
});

test('a good image: the container is recreated from it with the same configuration, the old one removed', async () => {
  const before = inspect(name);
  const sha = repo.commit({ Dockerfile: SERVICE('v2') }, 'v2');
  const { job, log } = await pushAndWait(sha);
  assert.equal((job.returnvalue as { exitCode: number }).exitCode, 0, log);
  const now = inspect(name);
  assert.notEqual(now.Id, before.Id, 'a new container');
  assert.equal(now.Image, inspect(`${image}:latest`).Id, 'from the new image');
  assert.equal(now.State.Running, true);
  assert.equal(docker(['exec', name, 'cat', '/version']), 'v2');
  assert.equal(docker(['exec', name, 'cat', '/data/file']), 'kept', 'the same volume');
  assert.ok(now.Config.Env.includes('FOO=bar'));
  assert.equal(now.Config.Labels['dockops.redeploy'], image);
  assert.equal(now.Config.Labels['org.opencontainers.image.revision'], sha, "the new image's labels");
  assert.equal(now.HostConfig.PortBindings['8080/tcp'][0].HostIp, '127.0.0.1');
  assert.equal(now.HostConfig.RestartPolicy.Name, 'unless-stopped');
  assert.deepEqual(Object.keys(now.NetworkSettings.Networks).sort(), [net1, net2].sort());
  assert.ok(now.NetworkSettings.Networks[net1].Aliases.includes('web'));
  assert.deepEqual(namesLike(name), [name], 'no old container left');
  assert.match(log, new RegExp(`Redeploying ${name} \\(${before.Id.slice(0, 12)}\\) from ${image}:latest\n`));
  assert.match(log, new RegExp(`${name}: the new container ${now.Id.slice(0, 12)} is up; the old one is removed`));
  assert.equal(inspect(bystander).Config.Image, `${image}:latest`);
  assert.equal(inspect(bystander).State.Running, true, 'a container pinned to another tag is left alone');
  const redeploy = (job.returnvalue as { data: { redeploy: { ok: boolean; containers: Array<{ name: string; outcome: string }> } } }).data.redeploy;
  assert.deepEqual(redeploy, { ok: true, containers: [{ name, from: before.Id, to: now.Id, image: `${image}:latest`, outcome: 'redeployed' }] });
});

test('an image that exits at once is rolled back: the old container runs again under its name', async () => {
  const running = inspect(name);
  const sha = repo.commit({ Dockerfile: 'FROM busybox:latest\nRUN echo v3 > /version\nCMD ["sh", "-c", "echo missing DATABASE_URL; exit 3"]\n' }, 'v3');
  const { job, log } = await pushAndWait(sha);
  assert.equal(await job.getState(), 'completed');
  assert.equal((job.returnvalue as { exitCode: number }).exitCode, 1, 'the build is pushed, the redeploy failed');
  const now = inspect(name);
  assert.equal(now.Id, running.Id, 'the old container, back under its name');
  assert.equal(now.State.Running, true);
  assert.equal(docker(['exec', name, 'cat', '/version']), 'v2');
  assert.deepEqual(namesLike(name), [name], 'the failed new container is removed');
  assert.match(log, new RegExp(`${name}: the new container exited with code 3 within 3s( and was restarted by its restart policy)?; rolled back to ${running.Id.slice(0, 12)}`));
  assert.match(log, /the new container's last output:\nmissing DATABASE_URL/);
  const data = (job.returnvalue as { data: { redeploy: { ok: boolean; containers: Array<{ outcome: string; reason: string }> } } }).data.redeploy;
  assert.equal(data.ok, false);
  assert.equal(data.containers[0].outcome, 'rolled back');
});

test('an image whose health check fails is rolled back too', async () => {
  const running = inspect(name);
  const sha = repo.commit({ Dockerfile: SERVICE('v4', 'HEALTHCHECK --interval=200ms --timeout=1s --retries=1 CMD exit 1\n') }, 'v4');
  const { job, log } = await pushAndWait(sha);
  assert.equal((job.returnvalue as { exitCode: number }).exitCode, 1, log);
  assert.equal(inspect(name).Id, running.Id);
  assert.equal(inspect(name).State.Running, true);
  assert.equal(docker(['exec', name, 'cat', '/version']), 'v2');
  assert.match(log, new RegExp(`${name}: the new container's health check failed`));
  assert.deepEqual(namesLike(name), [name]);
});

test('a worker killed mid-redeploy: the next attempt puts the parked old container back first, then redeploys; nothing parked is left', async () => {
  const running = inspect(name);
  const sha = repo.commit({ Dockerfile: SERVICE(`v5 ${randomUUID()}`) }, 'v5');
  shas.push(sha);
  const env = { GITHUB_WEBHOOK_SECRET: SECRET, DOCKOPS_JOBS_DIR: path.join(dir, 'jobs'), DOCKOPS_JOB_LOCK_MS: '2000', DOCKOPS_REDEPLOY_WAIT_MS: '4000' };
  const first = await startService(env);
  const q2 = new Queue('jobs-local', { connection: r, prefix: first.prefix });
  try {
    const [id] = (await deliver(first.url, SECRET, 'push', pushOf({ ref: 'refs/heads/main', after: sha }))).body.jobs as string[];
    // Killed while the new container proves itself: the old one is parked and stopped.
    let parked: string | undefined;
    for (let i = 0; i < 900 && !parked; i++) {
      parked = namesLike(name).find((n) => n.startsWith(`${name}-dockops-old-`));
      if (!parked) await sleep(100);
    }
    assert.ok(parked, 'the redeploy parked the old container');
    await first.stop('SIGKILL');
    await sleep(300);
    assert.equal(inspect(parked).Id, running.Id);
    const second = await startService({ ...env, DOCKOPS_QUEUE_PREFIX: first.prefix });
    try {
      const { state, job } = await finishedJob(q2, id, 120_000);
      const { logs } = await q2.getJobLogs(id, 0, -1, true);
      const log = logs.map((l) => (JSON.parse(l) as { t: string }).t).join('');
      assert.equal(state, 'completed', job?.failedReason);
      assert.ok(job);
      assert.equal(job.attemptsStarted, 2, 'taken up a second time');
      assert.match(log, new RegExp(`dockops: put ${name} back \\(parked as ${parked} by a redeploy that died(; its new container [0-9a-f]{12} removed)?\\) and started it\\n`));
      assert.equal((job.returnvalue as { exitCode: number }).exitCode, 0, log);
      // Then redeployed for real: the new image under the name, the data kept, nothing parked.
      assert.deepEqual(namesLike(name), [name]);
      assert.equal(inspect(name).Image, inspect(`${image}:latest`).Id);
      assert.equal(inspect(name).State.Running, true);
      assert.match(docker(['exec', name, 'cat', '/version']), /^v5 /);
      assert.equal(docker(['exec', name, 'cat', '/data/file']), 'kept');
    } finally {
      await second.stop();
    }
  } finally {
    await first.stop('SIGKILL');
    await q2.close();
    await dropPrefix(r, first.prefix);
  }
});
