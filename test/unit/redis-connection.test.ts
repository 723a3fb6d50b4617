import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../../src/config.js';
import { connectionPlan, duplicateConnection, redisConnection } from '../../src/jobs/queue.js';

const base = { DOCKER_HOST: 'unix:///run/dockops/docker.sock' };

test('workers never give up a request while Redis is away; producers fail fast', () => {
  const w = connectionPlan({ url: 'redis://127.0.0.1:6379', role: 'worker' });
  assert.equal(w.mode === 'url' && w.options.maxRetriesPerRequest, null);
  const p = connectionPlan({ url: 'redis://127.0.0.1:6379', role: 'producer' });
  assert.equal(p.mode, 'url');
  if (p.mode !== 'url' || w.mode !== 'url') return;
  assert.equal(p.options.maxRetriesPerRequest, 1);
  assert.equal((p.options as { enableOfflineQueue?: boolean }).enableOfflineQueue, false);
});

test('the worker connection dockops really makes has maxRetriesPerRequest: null (real ioredis)', async () => {
  const conn = redisConnection({ url: 'redis://127.0.0.1:6379', role: 'worker' });
  try {
    assert.equal(conn.options.maxRetriesPerRequest, null);
    // The connections made from it for QueueEvents keep it, and take the override.
    const dup = duplicateConnection(conn, { enableOfflineQueue: true });
    assert.equal(dup.options.maxRetriesPerRequest, null);
    dup.disconnect();
  } finally {
    conn.disconnect();
  }
});

test('Sentinel: the sentinels and master name from config, the password and db from REDIS_URL', () => {
  const c = loadConfig({ ...base, REDIS_URL: 'redis://:s3cret@ignored:6379/2', REDIS_SENTINELS: '10.0.0.5:26379, 10.0.0.6:26380', REDIS_SENTINEL_NAME: 'queue', REDIS_SENTINEL_PASSWORD: 'sentpw' });
  assert.deepEqual(c.redis.sentinels, [
    { host: '10.0.0.5', port: 26379 },
    { host: '10.0.0.6', port: 26380 },
  ]);
  assert.equal(c.queuePrefix, 'dockops', 'no hash tag without a Cluster');
  const plan = connectionPlan({ ...c.redis, role: 'worker' });
  assert.equal(plan.mode, 'sentinel');
  if (plan.mode !== 'sentinel') return;
  assert.equal(plan.options.name, 'queue');
  assert.equal(plan.options.password, 's3cret');
  assert.equal(plan.options.sentinelPassword, 'sentpw');
  assert.equal(plan.options.db, 2);
  assert.equal(plan.options.maxRetriesPerRequest, null);
  const conn = new Redis({ ...plan.options, lazyConnect: true });
  assert.deepEqual(conn.options.sentinels, c.redis.sentinels);
  conn.disconnect();
});

test('Cluster: nodes from config, per-node options for BullMQ, and the queue prefix becomes a {hash tag}', () => {
  const c = loadConfig({ ...base, REDIS_URL: 'rediss://app:pw@ignored:6379', REDIS_CLUSTER_NODES: '10.0.0.5:7000,10.0.0.6:7001', DOCKOPS_QUEUE_PREFIX: 'ops' });
  assert.equal(c.queuePrefix, '{ops}');
  const worker = connectionPlan({ ...c.redis, role: 'worker' });
  assert.equal(worker.mode, 'cluster');
  if (worker.mode !== 'cluster') return;
  assert.deepEqual(worker.nodes, [
    { host: '10.0.0.5', port: 7000 },
    { host: '10.0.0.6', port: 7001 },
  ]);
  assert.equal(worker.options.redisOptions?.maxRetriesPerRequest, null);
  assert.equal(worker.options.redisOptions?.password, 'pw');
  assert.equal(worker.options.redisOptions?.username, 'app');
  assert.deepEqual(worker.options.redisOptions?.tls, {});
  assert.equal(worker.options.enableOfflineQueue, true);
  const producer = connectionPlan({ ...c.redis, role: 'producer' });
  assert.equal(producer.mode === 'cluster' && producer.options.enableOfflineQueue, false);
  // A real ioredis Cluster client (not connected), and its duplicate for QueueEvents.
  const cl = new Cluster(worker.nodes, { ...worker.options, lazyConnect: true });
  const dup = duplicateConnection(cl as unknown as Redis, { enableOfflineQueue: true }) as unknown as Cluster;
  assert.ok(dup instanceof Cluster);
  assert.equal(dup.options.redisOptions?.maxRetriesPerRequest, null);
  dup.disconnect();
  cl.disconnect();
});

test('Sentinel and Cluster settings that are wrong stop start-up naming the variable', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ REDIS_SENTINELS: '10.0.0.5' }, /REDIS_SENTINELS: "10.0.0.5" is not HOST:PORT/],
    [{ REDIS_CLUSTER_NODES: 'a:0' }, /REDIS_CLUSTER_NODES: "a:0" is not HOST:PORT/],
    [{ REDIS_CLUSTER_NODES: 'a:7000;rm -rf' }, /REDIS_CLUSTER_NODES/],
    [{ REDIS_SENTINELS: 'a:26379', REDIS_CLUSTER_NODES: 'b:7000' }, /either REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both/],
  ];
  for (const [env, re] of bad) assert.throws(() => loadConfig({ ...base, ...env }), (e: unknown) => e instanceof ConfigError && re.test(e.message), JSON.stringify(env));
});
