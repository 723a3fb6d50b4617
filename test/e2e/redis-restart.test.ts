import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { api, startService, type Service } from '../support/service.js';
import { ownRedis, type OwnRedis } from '../support/redis.js';

/**
 * Redis (with AOF, fsync on every write) restarted while 1,000 jobs are queued: every one of them
 * ends completed, and each ran exactly once. The Redis is the test's own (a free port, a temp
 * directory); the service is the real `dockops start` with a small worker concurrency, and the
 * jobs are `version` (fast, and a real call to the engine). Each run is counted from the worker's
 * own `job started` log lines, per job id.
 */
const JOBS = 1000;
let redis: OwnRedis;
let svc: Service;

before(async () => {
  redis = await ownRedis(['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']);
  svc = await startService({ REDIS_URL: redis.url, DOCKOPS_WORKER_CONCURRENCY: '2', DOCKOPS_KEEP_JOBS: String(JOBS * 2), LOG_LEVEL: 'info' });
});

after(async () => {
  await svc?.stop();
  await redis?.remove();
});

type Line = { msg: string; jobId?: string };
const lines = (): Line[] =>
  svc
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
const countBy = (msg: string) => {
  const m = new Map<string, number>();
  for (const l of lines()) if (l.msg === msg && l.jobId) m.set(l.jobId, (m.get(l.jobId) ?? 0) + 1);
  return m;
};

test('Redis restarted while 1,000 jobs are queued: all 1,000 complete, each exactly once', async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < JOBS; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, JOBS - i) }, (_, k) => api(svc, 'POST', '/api/jobs', { command: 'version --format {{.Server.Os}}' }, { 'idempotency-key': `restart-${i + k}` })),
    );
    for (const r of batch) {
      assert.equal(r.status, 202, JSON.stringify(r.body));
      ids.push(r.body.id);
    }
  }
  assert.equal(new Set(ids).size, JOBS);

  // Some have run, most are still queued: now Redis goes down (SIGTERM, AOF flushed) and comes back.
  for (let i = 0; i < 600 && countBy('job finished').size < 20; i++) await new Promise((r) => setTimeout(r, 50));
  const beforeStop = countBy('job finished').size;
  assert.ok(beforeStop >= 20 && beforeStop < JOBS / 2, `restart while most jobs are queued (finished before: ${beforeStop})`);
  t.diagnostic(`${beforeStop} jobs finished when Redis was stopped`);
  await redis.stop();
  await new Promise((r) => setTimeout(r, 1000));
  await redis.start();

  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('jobs-local', { connection: conn, prefix: svc.prefix });
  try {
    let counts: Record<string, number> = {};
    for (let i = 0; i < 1200; i++) {
      counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      if (counts.completed + counts.failed >= JOBS) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(counts, { completed: JOBS, failed: 0, waiting: 0, active: 0, delayed: 0, prioritized: 0, 'waiting-children': 0 });

    // No job lost: every id the API gave is there, completed, with the engine's answer.
    const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
    for (const [i, job] of jobs.entries()) {
      assert.ok(job, `job ${ids[i]} is gone`);
      assert.equal(await job.getState(), 'completed', ids[i]);
      assert.equal(job.returnvalue.exitCode, 0);
      assert.equal(job.returnvalue.stdout, 'linux\n');
    }
  } finally {
    await queue.close();
    conn.disconnect();
  }
  // Exactly once: one `job started` and one `job finished` per id, and no other job ran.
  const started = countBy('job started');
  const finished = countBy('job finished');
  assert.equal(started.size, JOBS);
  assert.equal(finished.size, JOBS);
  for (const id of ids) {
    assert.equal(started.get(id), 1, `${id} started ${started.get(id)} times`);
    assert.equal(finished.get(id), 1, `${id} finished ${finished.get(id)} times`);
  }
  // The restart really happened under the service (it saw the connection drop) and it is the same process.
  assert.match(svc.logs(), /redis connection error \(reconnecting\)|worker error/);
  assert.equal(svc.proc.exitCode, null);
});
