import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, type Job } from 'bullmq';
import { api, finishedJob, startService, type Service } from '../support/service.js';
import { DOCKER_CLI, DOCKER_HOST, REGISTRY, docker, dockerCli, dropPrefix, redis, uniqueName } from '../support/env.js';
import { commitsOf, deliver, gitRepo, pushOf, removeBuildLeftovers, standInGithub } from '../support/github.js';

/**
 * A worker SIGKILLed in the middle of an image push (alone, and as the last step of a GitHub
 * build): another process takes the job up, says in its log that it pushes again and how far the
 * dead attempt got, and the registry ends up with each tag once, at one digest, every blob whole.
 */

const REGISTRY_URL = `http://${REGISTRY.replace(/^localhost(?=:|$)/, '127.0.0.1')}`;
const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
// Each layer is this much random data: pushing them takes the engine a few seconds (gzip of data that does not compress).
const LAYER_MIB = 32;
const NONCE = randomUUID();
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/**
 * Three layers of random data on busybox. The nonce and the test's own word keep the engine's build
 * cache from giving layers an earlier build made (the engine would mount those from the other repository, not send them).
 */
function bigDockerfile(word: string): string {
  const steps = [1, 2, 3].map((i) => `RUN busybox dd if=/dev/urandom of=/blob${i} bs=1048576 count=${LAYER_MIB} 2>/dev/null && echo ${NONCE} ${word}`);
  return ['FROM busybox:latest', ...steps, ''].join('\n');
}

/** A manifest as the registry serves it, with the digest it names it by. */
async function manifest(repo: string, ref: string): Promise<{ digest: string; layers: Array<{ digest: string; size: number }>; config: { digest: string; size: number } }> {
  const res = await fetch(`${REGISTRY_URL}/v2/${repo}/manifests/${ref}`, { headers: { accept: MANIFEST_V2 } });
  assert.equal(res.status, 200, `manifest ${repo}:${ref}`);
  const body = (await res.json()) as { layers: Array<{ digest: string; size: number }>; config: { digest: string; size: number } };
  return { digest: res.headers.get('docker-content-digest') ?? '', layers: body.layers, config: body.config };
}

async function tagsOf(repo: string): Promise<string[]> {
  const res = await fetch(`${REGISTRY_URL}/v2/${repo}/tags/list`);
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

/** Every blob of a manifest is in the registry at the size the manifest gives (no half upload counts as a blob). */
async function assertBlobsWhole(repo: string, m: Awaited<ReturnType<typeof manifest>>) {
  for (const b of [m.config, ...m.layers]) {
    const res = await fetch(`${REGISTRY_URL}/v2/${repo}/blobs/${b.digest}`, { method: 'HEAD' });
    assert.equal(res.status, 200, `blob ${b.digest}`);
    assert.equal(Number(res.headers.get('content-length')), b.size, `blob ${b.digest} has its full size`);
  }
}

/**
 * Deletes what a test pushed (the registry runs with delete enabled): its manifests and its links to
 * their blobs. The blob data stays until the registry's garbage-collect; the repository's directory
 * and the uploads the killed attempt left stay too (the registry purges stale uploads itself).
 */
async function removeFromRegistry(repo: string) {
  const digests = new Set<string>();
  for (const tag of await tagsOf(repo).catch(() => [])) {
    const m = await manifest(repo, tag).catch(() => undefined);
    if (!m) continue;
    digests.add(m.digest);
    for (const b of [m.config, ...m.layers]) await fetch(`${REGISTRY_URL}/v2/${repo}/blobs/${b.digest}`, { method: 'DELETE' });
  }
  for (const d of digests) await fetch(`${REGISTRY_URL}/v2/${repo}/manifests/${d}`, { method: 'DELETE' });
}

/** Waits until the job's push is under way: a layer is being sent and not every layer is done. */
async function midPush(q: Queue, id: string, image: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    const job = await q.getJob(id);
    const p = job?.progress as { action?: string; image?: string; layers?: Record<string, { status: string; current?: number }> } | undefined;
    const layers = Object.values(p?.layers ?? {});
    if (p?.action === 'push' && p.image === image && layers.some((l) => l.status === 'Pushing' && (l.current ?? 0) > 0)) return;
    const state = await job?.getState();
    if (state === 'completed' || state === 'failed') throw new Error(`job ${id} ended (${state}) before its push was seen under way`);
    await sleep(20);
  }
  throw new Error(`job ${id} never started pushing ${image}`);
}

async function logOf(svc: Service, id: string): Promise<string> {
  return (await api(svc, 'GET', `/api/jobs/${id}/logs`)).body.entries.map((e: { t: string }) => e.t).join('');
}

/** Containers that anything of this file made and left (build steps carry the nonce; pushes make none). */
async function leftovers(jobId: string) {
  const all = await docker().listContainers({ all: true });
  return all.filter((c) => c.Command.includes(NONCE) || c.Labels['dockops.job-id'] === jobId);
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});

test('a push whose worker is SIGKILLed mid-upload is taken up again: one tag, one digest, whole blobs', async () => {
  const repo = uniqueName('pushkill');
  const ref = `${REGISTRY}/${repo}:v1`;
  execFileSync(DOCKER_CLI, ['build', '-q', '-t', ref, '-'], { env: { ...process.env, DOCKER_HOST }, input: bigDockerfile('push'), stdio: ['pipe', 'ignore', 'inherit'] });
  cleanups.push(() => dockerCli(['rmi', '-f', ref]), () => removeFromRegistry(repo));
  const r = redis();
  cleanups.push(() => r.disconnect());
  const env = { DOCKOPS_JOB_LOCK_MS: '2000' };
  const first = await startService(env);
  cleanups.push(() => first.stop('SIGKILL'), () => dropPrefix(r, first.prefix));
  const q = new Queue('jobs-local', { connection: r, prefix: first.prefix });
  cleanups.push(() => q.close());

  const sub = await api(first, 'POST', '/api/jobs', { command: `push ${ref}` });
  assert.equal(sub.status, 202, JSON.stringify(sub.body));
  const id = sub.body.id as string;
  await midPush(q, id, ref);
  await first.stop('SIGKILL');
  assert.equal(await (await q.getJob(id))?.getState(), 'active', 'the push had not finished when its worker died');
  assert.deepEqual(await tagsOf(repo), [], 'no tag yet: the dead attempt had not put the manifest');

  const second = await startService({ ...env, DOCKOPS_QUEUE_PREFIX: first.prefix });
  cleanups.push(() => second.stop());
  const { state, job } = await finishedJob(q, id, 120_000);
  assert.equal(state, 'completed', job?.failedReason);
  assert.equal(job?.attemptsStarted, 2, 'taken up a second time');
  const result = job?.returnvalue as { exitCode: number; data: { digest: string; pushed: Array<{ tag: string; digest: string }> } };
  assert.equal(result.exitCode, 0);

  const m = await manifest(repo, 'v1');
  assert.deepEqual(await tagsOf(repo), ['v1'], 'exactly one tag');
  assert.match(m.digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(result.data.digest, m.digest, "the job's digest is the registry's");
  assert.deepEqual(result.data.pushed.map((p) => [p.tag, p.digest]), [['v1', m.digest]]);
  const info = await docker().getImage(ref).inspect();
  assert.deepEqual(info.RepoDigests.filter((d) => d.startsWith(`${REGISTRY}/${repo}@`)), [`${REGISTRY}/${repo}@${m.digest}`], "the engine's RepoDigests entry is the same digest");
  assert.equal(m.layers.length, info.RootFS.Layers?.length, 'every layer of the image is in the manifest');
  await assertBlobsWhole(repo, m);

  const log = await logOf(second, id);
  const said = new RegExp(`dockops: pushing ${ref.replace(/[.]/g, '\\.')} again: the attempt that died had begun it \\((\\d+) of (\\d+) layer\\(s\\) done when it last reported\\)`).exec(log);
  assert.ok(said, `the retake is said in the log:\n${log}`);
  const [k, n] = [Number(said[1]), Number(said[2])];
  assert.equal(n, m.layers.length, 'the dead attempt had met every layer');
  assert.ok(k < n, 'and had not finished them all');
  assert.equal(log.match(/v1: digest: sha256:[0-9a-f]{64} size: \d+/g)?.length, 1, 'the manifest was put once');

  // Pushing the same image once more is a no-op with the same answer.
  const again = await api(second, 'POST', '/api/jobs', { command: `push ${ref}` });
  const redo = await finishedJob(q, again.body.id, 60_000);
  assert.equal(redo.state, 'completed', redo.job?.failedReason);
  assert.equal((redo.job?.returnvalue as typeof result).data.digest, m.digest, 'the same digest again');
  assert.equal((await logOf(second, again.body.id)).match(/Layer already exists/g)?.length, m.layers.length, 'nothing sent twice');
  assert.deepEqual(await tagsOf(repo), ['v1']);

  assert.deepEqual(await leftovers(id), [], 'no container left over');
});

test('a GitHub build whose worker is SIGKILLed mid-push: every semver tag once at the final digest, statuses pending then success', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-build-kill-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const SECRET = 'github-webhook-secret-for-build-kill';
  const REPO = 'Codertocat/Hello-World';
  const repo = uniqueName('buildkill');
  const image = `${REGISTRY}/${repo}`;
  const source = gitRepo(path.join(dir, 'Hello-World'));
  const sha = source.commit({ Dockerfile: bigDockerfile('build') }, 'big');
  const jobs = path.join(dir, 'jobs');
  mkdirSync(jobs);
  writeFileSync(
    path.join(jobs, 'builds.yml'),
    ['builds:', `  - repository: ${REPO}`, `    source: file://${source.dir}`, `    image: ${image}`, '    rules:', '      - type: tag', '        name: /^v\\d+\\.\\d+\\.\\d+$/', '        semver: true', ''].join('\n'),
  );
  const tags = ['v1.2.3', '1.2.3', '1.2', '1', 'latest'];
  cleanups.push(
    () => removeFromRegistry(repo),
    () => removeBuildLeftovers({ shas: commitsOf(source.dir), nonce: NONCE }),
    () => dockerCli(['rmi', '-f', ...tags.map((t) => `${image}:${t}`)]),
  );
  const github = await standInGithub();
  cleanups.push(() => github.close());
  const r = redis();
  cleanups.push(() => r.disconnect());
  const env = { GITHUB_WEBHOOK_SECRET: SECRET, GITHUB_TOKEN: 'ghp_test_token_for_the_stand_in', GITHUB_API_URL: github.url, DOCKOPS_JOBS_DIR: jobs, DOCKOPS_JOB_LOCK_MS: '2000' };
  const first = await startService(env);
  cleanups.push(() => first.stop('SIGKILL'), () => dropPrefix(r, first.prefix));
  const q = new Queue('jobs-local', { connection: r, prefix: first.prefix });
  cleanups.push(() => q.close());

  const res = await deliver(first.url, SECRET, 'push', pushOf({ ref: 'refs/tags/v1.2.3', after: sha }));
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const [id] = res.body.jobs as string[];
  await midPush(q, id, `${image}:v1.2.3`);
  await first.stop('SIGKILL');
  assert.equal(await (await q.getJob(id))?.getState(), 'active', 'the build had not finished when its worker died');
  assert.deepEqual(await tagsOf(repo), [], 'no tag yet');

  const second = await startService({ ...env, DOCKOPS_QUEUE_PREFIX: first.prefix });
  cleanups.push(() => second.stop());
  const { state, job } = await finishedJob(q, id, 180_000);
  assert.equal(state, 'completed', job?.failedReason);
  assert.equal((job as Job).attemptsStarted, 2, 'taken up a second time');
  const result = job?.returnvalue as { exitCode: number; data: { digest: string; pushed: Array<{ image: string; digest: string }> } };
  const log = await logOf(second, id);
  assert.equal(result.exitCode, 0, log);

  assert.deepEqual((await tagsOf(repo)).sort(), [...tags].sort(), 'every tag of the rule, no other');
  const digest = result.data.digest;
  assert.match(digest, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(result.data.pushed.map((p) => p.digest), tags.map(() => digest));
  for (const t of tags) {
    const m = await manifest(repo, t);
    assert.equal(m.digest, digest, `${t} is at the build's digest`);
    if (t === 'latest') await assertBlobsWhole(repo, m);
  }
  const info = await docker().getImage(`${image}:latest`).inspect();
  assert.equal(info.Config.Labels['org.opencontainers.image.revision'], sha);
  assert.ok(info.RepoDigests.includes(`${image}@${digest}`), 'the engine knows the pushed digest');
  for (const t of tags) {
    const lines = log.match(new RegExp(`^${t.replace(/[.]/g, '\\.')}: digest: (sha256:[0-9a-f]{64}) size: \\d+$`, 'gm')) ?? [];
    assert.equal(lines.length, 1, `${t} pushed once (a manifest put once over both attempts)`);
  }
  assert.match(log, new RegExp(`dockops: building again: the attempt that died had got as far as pushing ${image.replace(/[.]/g, '\\.')}:v1\\.2\\.3\n`));
  assert.match(log, new RegExp(`dockops: pushing ${image.replace(/[.]/g, '\\.')}:v1\\.2\\.3 again: the attempt that died had begun it \\(\\d+ of \\d+ layer\\(s\\) done when it last reported\\)`));

  // The commit statuses, once the second process has had the job's events: pending once, success once.
  for (let i = 0; i < 100 && !github.statuses.some((s) => s.body.state === 'success'); i++) await sleep(100);
  await second.stop();
  const states = github.statuses.filter((s) => s.path === `POST /repos/${REPO}/statuses/${sha}`).map((s) => s.body.state);
  assert.deepEqual(states, ['pending', 'success']);
  assert.deepEqual(await leftovers(id), [], 'no container left over');
});
