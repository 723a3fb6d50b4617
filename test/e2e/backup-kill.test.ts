import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { api, finishedJob, startService } from '../support/service.js';
import { docker, dropPrefix, redis, uniqueName } from '../support/env.js';
import { fillVolume } from '../support/volume-fixture.js';
import { HELPER_LABEL } from '../../src/backup/volumes.js';

/**
 * A worker killed with SIGKILL in the middle of a backup with --stop: the unfinished archive never
 * looks like a backup; once the lock lapses another worker takes the job up, starts the container the
 * dead attempt stopped, removes its helper container, and makes one valid backup over the partial.
 */
test('a backup survives its worker being killed: no partial left, one valid backup, the stopped container running again', async () => {
  const vol = uniqueName('killvol');
  const user = uniqueName('killuser');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-kill-backups-'));
  const d = docker();
  const r = redis();
  await d.createVolume({ Name: vol });
  await fillVolume(d, vol, { smallFiles: 50, bigBytes: 160 << 20 });
  const c = await d.createContainer({ name: user, Image: 'busybox:latest', Cmd: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'], HostConfig: { Binds: [`${vol}:/data`] } });
  await c.start();
  const env = { DOCKOPS_JOB_LOCK_MS: '2000', DOCKOPS_BACKUP_TARGETS: `local=file://${dir}` };
  const first = await startService(env);
  try {
    const sub = await api(first, 'POST', '/api/jobs', { command: `volume backup ${vol} --stop --compress gzip --level 9` });
    assert.equal(sub.status, 202);
    // The partial file is made before the helper container, and the archive streams from the
    // helper once it exists (bytes in the partial say nothing: an O_DIRECT writer holds the first
    // 4 MiB in staging, and this whole gzip archive is ~1.2 MB).
    const partial = () => {
      try {
        return readdirSync(path.join(dir, vol)).find((x) => x.startsWith('.partial-'));
      } catch {
        return undefined;
      }
    };
    const helper = async () => (await d.listContainers({ all: true, filters: { label: [HELPER_LABEL, `dockops.job=${sub.body.id}`] } })).length > 0;
    for (let i = 0; i < 600 && !(partial() && (await helper())); i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(partial() && (await helper()), 'the archive was being written from the helper container');
    await first.stop('SIGKILL');
    assert.equal((await c.inspect()).State.Running, false, 'the dead attempt had stopped the container');
    assert.equal(readdirSync(path.join(dir, vol)).filter((f) => f.endsWith('.json')).length, 0, 'no manifest: nothing looks valid');
    const second = await startService({ ...env, DOCKOPS_QUEUE_PREFIX: first.prefix });
    try {
      const q = new Queue('jobs-local', { connection: r, prefix: first.prefix });
      const { state, job } = await finishedJob(q, sub.body.id, 120_000);
      assert.equal(state, 'completed', job?.failedReason);
      assert.equal(job?.attemptsStarted, 2, 'taken up a second time');
      assert.equal((job?.returnvalue as { exitCode: number }).exitCode, 0);
      const logs = (await api(second, 'GET', `/api/jobs/${sub.body.id}/logs`)).body.entries.map((e: { t: string }) => e.t).join('');
      assert.match(logs, new RegExp(`started ${user} again \\(stopped by the attempt that died\\)`));
      assert.match(logs, /removed 1 helper container\(s\) left by the attempt that died/);
      const files = readdirSync(path.join(dir, vol));
      assert.equal(files.filter((f) => f.startsWith('.partial-')).length, 0, 'the partial was written over and renamed');
      const manifests = files.filter((f) => f.endsWith('.json'));
      assert.equal(manifests.length, 1, 'one backup');
      const m = JSON.parse(readFileSync(path.join(dir, vol, manifests[0]), 'utf8'));
      assert.ok(files.includes(m.file));
      assert.equal((await c.inspect()).State.Running, true, 'running again');
      const left = await d.listContainers({ all: true, filters: { label: [HELPER_LABEL] } });
      assert.equal(left.length, 0, 'no orphan helper container');
      await q.close();
    } finally {
      await second.stop();
    }
  } finally {
    await first.stop('SIGKILL');
    await d.getContainer(user).remove({ force: true }).catch(() => undefined);
    await d.getVolume(vol).remove({ force: true }).catch(() => undefined);
    await dropPrefix(r, first.prefix);
    r.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
});
