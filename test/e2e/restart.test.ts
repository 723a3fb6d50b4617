import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { api, finishedJob, startService } from '../support/service.js';
import { docker, dropPrefix, redis, uniqueName } from '../support/env.js';

/**
 * A worker killed with SIGKILL in the middle of `run`: once its lock lapses another worker takes
 * the job up, and instead of running the command a second time it follows the container the
 * first attempt made. One container, one completed job, the whole output.
 */
test('a job survives its worker being killed, without running twice', async () => {
  const name = uniqueName('restart');
  const first = await startService({ DOCKOPS_JOB_LOCK_MS: '2000' });
  const r = redis();
  const d = docker();
  try {
    const sub = await api(first, 'POST', '/api/jobs', { command: `run --name ${name} busybox sh -c 'echo start; sleep 4; echo end'` });
    assert.equal(sub.status, 202);
    for (let i = 0; i < 100; i++) {
      const info = await d.getContainer(name).inspect().catch(() => undefined);
      if (info?.State.Running) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    await first.stop('SIGKILL');

    const second = await startService({ DOCKOPS_JOB_LOCK_MS: '2000', DOCKOPS_QUEUE_PREFIX: first.prefix });
    try {
      const q = new Queue('jobs-local', { connection: r, prefix: first.prefix });
      const { state, job } = await finishedJob(q, sub.body.id, 30_000);
      assert.equal(state, 'completed', job?.failedReason);
      assert.equal(job?.attemptsStarted, 2, 'taken up a second time');
      assert.equal((job?.returnvalue as { exitCode: number }).exitCode, 0);
      const logs = await api(second, 'GET', `/api/jobs/${sub.body.id}/logs`);
      assert.equal(logs.body.entries.map((e: { t: string }) => e.t).join(''), 'start\nend\n');
      const made = await d.listContainers({ all: true, filters: JSON.stringify({ label: [`dockops.job-id=${sub.body.id}`] }) });
      assert.equal(made.length, 1, 'one container, not two');
      await q.close();
    } finally {
      await second.stop();
    }
  } finally {
    await d.getContainer(name).remove({ force: true }).catch(() => undefined);
    await dropPrefix(r, first.prefix);
    r.disconnect();
  }
});
