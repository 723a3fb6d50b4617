import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { checkRedisSettings } from '../../src/ops/redis-check.js';
import { spawn } from 'node:child_process';
import { api, BIN, startService, type Service } from '../support/service.js';
import { DOCKER_HOST } from '../support/env.js';
import { ownRedis, redisCli, type OwnRedis } from '../support/redis.js';

/**
 * The start-up check of Redis's settings, against redis-servers of the test's own: one set up the
 * way BullMQ warns against (eviction on, no persistence), one that forbids CONFIG, and one as
 * production wants it. The real `dockops start` process says what is wrong and how to fix it.
 */
const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

async function service(r: OwnRedis): Promise<Service> {
  const svc = await startService({ REDIS_URL: r.url });
  cleanup.push(() => svc.stop());
  return svc;
}

function warnings(svc: Service): string[] {
  return svc
    .logs()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { level: number; msg: string })
    .filter((l) => l.level === 40 && /Redis|CONFIG/.test(l.msg) && !/connection error/.test(l.msg))
    .map((l) => l.msg);
}

async function waitForWarnings(svc: Service, n: number): Promise<string[]> {
  for (let i = 0; i < 100 && warnings(svc).length < n; i++) await new Promise((r) => setTimeout(r, 100));
  return warnings(svc);
}

test('eviction on and persistence off: start-up names each setting and its fix', async () => {
  const r = await ownRedis(['--maxmemory-policy', 'allkeys-lru', '--appendonly', 'no', '--save', '']);
  cleanup.push(() => r.remove());
  const conn = new Redis(r.url, { maxRetriesPerRequest: 1 });
  try {
    const c = await checkRedisSettings(conn);
    assert.equal(c.unreadable, undefined);
    assert.equal(c.warnings.length, 2);
  } finally {
    conn.disconnect();
  }
  const svc = await service(r);
  const w = await waitForWarnings(svc, 2);
  assert.equal(w.length, 2, w.join('\n'));
  assert.match(w[0], /maxmemory-policy is allkeys-lru: when Redis fills up it may delete queued jobs\. Set "maxmemory-policy noeviction"/);
  assert.match(w[1], /persistence is off \(appendonly no, save ""\): a Redis restart loses every queued job\. Set "appendonly yes"/);
});

test('RDB snapshots without AOF: a warning that jobs since the last snapshot are lost', async () => {
  const r = await ownRedis(['--appendonly', 'no', '--save', '3600 1']);
  cleanup.push(() => r.remove());
  const conn = new Redis(r.url, { maxRetriesPerRequest: 1 });
  try {
    const c = await checkRedisSettings(conn);
    assert.deepEqual(c.warnings.length, 1);
    assert.match(c.warnings[0], /appendonly is no \(only RDB snapshots, save "3600 1"\): a crash loses the jobs queued since the last snapshot/);
  } finally {
    conn.disconnect();
  }
});

test('a Redis that forbids CONFIG: said once, and the service runs', async () => {
  const r = await ownRedis(['--appendonly', 'yes', '--save', '', '--rename-command', 'CONFIG', '']);
  cleanup.push(() => r.remove());
  const svc = await service(r);
  const w = await waitForWarnings(svc, 1);
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(warnings(svc).length, 1, warnings(svc).join('\n'));
  assert.match(w[0], /^cannot read Redis's settings \(CONFIG GET: .+\); make sure by hand that maxmemory-policy is noeviction and appendonly is yes$/);
  const ready = await fetch(`${svc.url}/readyz`);
  assert.equal(ready.status, 200);
});

test('noeviction with AOF, as docker-compose.yml runs it: no warning', async () => {
  const r = await ownRedis(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', '']);
  cleanup.push(() => r.remove());
  const conn = new Redis(r.url, { maxRetriesPerRequest: 1 });
  try {
    assert.deepEqual(await checkRedisSettings(conn), { warnings: [] });
  } finally {
    conn.disconnect();
  }
  const svc = await service(r);
  for (let i = 0; i < 100 && !svc.logs().includes('Redis settings checked'); i++) await new Promise((res) => setTimeout(res, 100));
  assert.match(svc.logs(), /"msg":"Redis settings checked: maxmemory-policy noeviction, appendonly yes"/);
  assert.deepEqual(warnings(svc), []);
});

test('noeviction and Redis full: the API refuses the job with a message saying so, nothing is lost', async () => {
  const r = await ownRedis(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', '']);
  cleanup.push(() => r.remove());
  const svc = await service(r);
  const first = await api(svc, 'POST', '/api/jobs', { command: 'version' });
  assert.equal(first.status, 202, JSON.stringify(first.body));
  // Redis is now over its limit: every write is refused (OOM), queued jobs stay.
  assert.equal(redisCli(r.port, ['CONFIG', 'SET', 'maxmemory', '1']), 'OK');
  const full = await api(svc, 'POST', '/api/jobs', { command: 'version' });
  assert.equal(full.status, 503, JSON.stringify(full.body));
  assert.match(full.body.message, /the job queue \(Redis\) is full: it reached its maxmemory; nothing was enqueued/);
  assert.equal(redisCli(r.port, ['CONFIG', 'SET', 'maxmemory', '0']), 'OK');
  const again = await api(svc, 'POST', '/api/jobs', { command: 'version' });
  assert.equal(again.status, 202, JSON.stringify(again.body));
});

test('`dockops worker` checks the same settings at start-up', async () => {
  const r = await ownRedis(['--maxmemory-policy', 'volatile-lru', '--appendonly', 'yes', '--save', '']);
  cleanup.push(() => r.remove());
  const p = spawn(BIN, ['worker', '--host', 'local'], { env: { ...process.env, DOCKER_HOST, REDIS_URL: r.url, DOCKOPS_QUEUE_PREFIX: `e2e-w-${r.port}`, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (c: Buffer) => (out += c.toString()));
  cleanup.push(() => new Promise((res) => (p.exitCode !== null ? res(null) : (p.once('exit', res), p.kill('SIGTERM')))));
  for (let i = 0; i < 150 && !/maxmemory-policy is volatile-lru/.test(out); i++) await new Promise((res) => setTimeout(res, 100));
  assert.match(out, /"msg":"Redis maxmemory-policy is volatile-lru: when Redis fills up it may delete queued jobs\. Set \\"maxmemory-policy noeviction\\"/);
  assert.doesNotMatch(out, /persistence is off|appendonly is no/);
});
