import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../support/harness.js';
import { jobView } from '../../src/jobs/queue.js';
import { docker, pushToRegistry, uniqueName, REGISTRY } from '../support/env.js';

let h: Awaited<ReturnType<typeof harness>>;
const cleanup: string[] = [];
before(async () => {
  h = await harness();
});
after(async () => {
  const d = docker();
  for (const name of cleanup) await d.getContainer(name).remove({ force: true }).catch(() => undefined);
  await h.close();
});

test('run: foreground output is captured and the container exit code becomes the job exit code', async () => {
  const r = await h.run(`run --rm busybox sh -c 'echo out; echo err >&2; exit 3'`);
  assert.equal(r.result.exitCode, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.result.streamed, true);
});

test('run: -e, -w, --entrypoint and --name reach the container; --rm removes it', async () => {
  const name = uniqueName('run');
  const r = await h.run(`run --rm --name ${name} -e GREETING=hello -w /tmp --entrypoint sh busybox -c 'echo $GREETING from $(pwd)'`);
  assert.equal(r.result.exitCode, 0);
  assert.equal(r.stdout, 'hello from /tmp\n');
  await assert.rejects(docker().getContainer(name).inspect(), /no such container/i);
});

test('run: containers are labelled with their job id', async () => {
  const name = uniqueName('label');
  cleanup.push(name);
  const r = await h.run(`run --name ${name} busybox true`);
  assert.equal(r.result.exitCode, 0);
  const info = await docker().getContainer(name).inspect();
  assert.equal(info.Config.Labels['dockops.job-id'], r.id);
});

test('a job read before it ended never shows as completed without its result or end time', async () => {
  const job = await h.submit('run --rm busybox sh -c "echo done"');
  const early = await h.jobs.get(job.id as string);
  assert.ok(early);
  await job.waitUntilFinished(await h.jobs.queueEvents('local'), 60_000);
  // The early copy: its state is asked now (completed), its fields are from before.
  const stale = await jobView(early);
  assert.notEqual(stale.state, 'completed');
  assert.equal(stale.finishedAt, null);
  const fresh = await jobView((await h.jobs.get(job.id as string))!);
  assert.equal(fresh.state, 'completed');
  assert.equal(fresh.exitCode, 0);
  assert.ok(fresh.finishedAt);
});

test('run -d prints the container id and leaves it running', async () => {
  const name = uniqueName('detach');
  cleanup.push(name);
  const r = await h.run(`run -d --name ${name} busybox sleep 60`);
  assert.equal(r.result.exitCode, 0);
  const id = r.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const info = await docker().getContainer(name).inspect();
  assert.equal(info.Id, id);
  assert.equal(info.State.Running, true);
});

test("run: docker's exit codes 127 (not found) and 125 (missing image, no registry)", async () => {
  const notFound = await h.run('run --rm busybox no-such-command');
  assert.equal(notFound.result.exitCode, 127);
  assert.match(notFound.stderr, /^docker: Error response from daemon: .*executable file not found/m);
  const missing = await h.run(`run --rm ${REGISTRY}/dockops-no-such-image:1`);
  assert.equal(missing.result.exitCode, 125);
  assert.match(missing.stderr, /Unable to find image '.*dockops-no-such-image:1' locally/);
  assert.match(missing.stderr, /See 'docker run --help'\./);
});

test('pull from the local registry reports layer progress and prints the reference', async () => {
  const name = uniqueName('pull');
  const ref = pushToRegistry(name, 'v1');
  const r = await h.run(`pull ${ref}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  assert.match(r.stdout, /v1: Pulling from dockops-test-pull-/);
  assert.match(r.stdout, /Digest: sha256:[0-9a-f]{64}/);
  assert.match(r.stdout, new RegExp(`${ref.replace(/[.]/g, '\\.')}\n$`));
  const job = await h.jobs.get(r.id);
  const progress = job?.progress as { layers?: Record<string, { status: string }>; done?: boolean };
  assert.equal(progress.done, true);
  assert.ok(Object.keys(progress.layers ?? {}).length >= 1, 'at least one layer reported');
  await docker().getImage(ref).remove().catch(() => undefined);
});

test('pull of a missing image is a docker error with exit code 1', async () => {
  const r = await h.run(`pull ${REGISTRY}/dockops-absent:nope`);
  assert.equal(r.result.exitCode, 1);
  assert.match(r.stderr, /Error response from daemon: manifest for .*dockops-absent:nope not found/);
});

test('logs: --tail, -t and --since on a real container', async () => {
  const name = uniqueName('logs');
  cleanup.push(name);
  const r0 = await h.run(`run --name ${name} busybox sh -c 'for i in 1 2 3 4 5; do echo line $i; done; sleep 1; echo oops >&2'`);
  assert.equal(r0.result.exitCode, 0);
  const all = await h.run(`logs ${name}`);
  assert.equal(all.stdout, 'line 1\nline 2\nline 3\nline 4\nline 5\n');
  assert.equal(all.stderr, 'oops\n');
  const tail = await h.run(`logs --tail 2 ${name}`);
  assert.equal(tail.stdout + tail.stderr, 'line 5\noops\n');
  const ts = await h.run(`logs -t --tail 1 ${name}`);
  assert.match(ts.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z oops\n$/);
  const future = await h.run(`logs --since 2099-01-01T00:00:00Z ${name}`);
  assert.equal(future.stdout + future.stderr, '');
  const missing = await h.run('logs dockops-no-such-container');
  assert.equal(missing.result.exitCode, 1);
  assert.equal(missing.stderr, 'Error: No such container: dockops-no-such-container\n');
});

test('an idempotency key makes a retried submission the same job', async () => {
  const a = await h.submit('version', 'same-key');
  const b = await h.submit('version', 'same-key');
  assert.equal(a.id, b.id);
  const c = await h.submit('version', 'other-key');
  assert.notEqual(a.id, c.id);
});

test('the worker parses job data again: an invalid spec fails with a reason and is not retried', async () => {
  const q = h.jobs.queue('local');
  const job = await q.add('container.run', { spec: { kind: 'container.run', image: 'busybox', privileged: 'yes' }, origin: { door: 'api', token: 't' }, host: 'local', command: 'x', submittedAt: 0 }, { jobId: 'local.bad-spec', attempts: 3 });
  const events = await h.jobs.queueEvents('local');
  await assert.rejects(job.waitUntilFinished(events, 20_000), /invalid job data/);
  const failed = await q.getJob('local.bad-spec');
  assert.equal(await failed?.getState(), 'failed');
  assert.equal(failed?.attemptsMade, 1);
  const unknown = await q.add('x', { spec: { kind: 'volume.frobnicate' }, origin: { door: 'api', token: 't' }, host: 'local', command: 'x', submittedAt: 0 }, { jobId: 'local.bad-kind' });
  await assert.rejects(unknown.waitUntilFinished(events, 20_000), /invalid job data/);
});

test('cancel reaches a running job: the container is killed and the job fails as cancelled', async () => {
  const name = uniqueName('cancel');
  cleanup.push(name);
  const job = await h.submit(`run --name ${name} busybox sleep 300`);
  const d = docker();
  for (let i = 0; i < 100; i++) {
    const info = await d.getContainer(name).inspect().catch(() => undefined);
    if (info?.State.Running) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(h.worker.worker.cancelJob(job.id as string, 'test'), true);
  const events = await h.jobs.queueEvents('local');
  await assert.rejects(job.waitUntilFinished(events, 30_000), /cancelled/);
  const info = await d.getContainer(name).inspect();
  assert.equal(info.State.Running, false);
});

test('logs -f follows a running container as it writes, and stops after --for', async () => {
  const name = uniqueName('follow');
  cleanup.push(name);
  const started = await h.run(`run -d --name ${name} busybox sh -c 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done'`);
  assert.equal(started.result.exitCode, 0, started.stderr);
  const r = await h.run(`logs -f --for 2s ${name}`);
  assert.equal(r.result.exitCode, 0);
  const ticks = r.stdout.trim().split('\n');
  assert.ok(ticks.length >= 4, `several lines arrived while following: ${ticks.length}`);
  assert.equal(ticks[0], 'tick 1');
  // Entries reached the job log in several batches while it ran, not once at the end.
  assert.ok(r.entries.filter((e) => e.s === 'stdout').length >= 2);
});

test('run --mount (tmpfs, volume), --volumes-from and --link reach the container', async () => {
  const vol = uniqueName('vol');
  const writer = uniqueName('writer');
  const web = uniqueName('linked');
  cleanup.push(writer, web);
  try {
    const tmpfs = await h.run(`run --rm --mount type=tmpfs,target=/scratch,tmpfs-size=1m busybox sh -c 'grep " /scratch " /proc/mounts'`);
    assert.equal(tmpfs.result.exitCode, 0, tmpfs.stderr);
    assert.match(tmpfs.stdout, /^tmpfs \/scratch tmpfs .*size=1024k/);
    const w = await h.run(`run --name ${writer} --mount type=volume,source=${vol},target=/data busybox sh -c 'echo shared > /data/f'`);
    assert.equal(w.result.exitCode, 0, w.stderr);
    const r = await h.run(`run --rm --volumes-from ${writer}:ro busybox sh -c 'cat /data/f; touch /data/g || echo read-only'`);
    assert.equal(r.stdout, 'shared\nread-only\n');
    const started = await h.run(`run -d --name ${web} busybox sleep 60`);
    assert.equal(started.result.exitCode, 0, started.stderr);
    const l = await h.run(`run --rm --link ${web}:db busybox grep -c db /etc/hosts`);
    assert.equal(l.stdout, '1\n');
  } finally {
    for (const c of [writer, web]) await docker().getContainer(c).remove({ force: true }).catch(() => undefined);
    await docker().getVolume(vol).remove().catch(() => undefined);
  }
});
