import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, cli, startService, type Service } from '../support/service.js';
import { ownRedis, type OwnRedis } from '../support/redis.js';

/**
 * Redis going away and coming back, with a Redis of the test's own (the machine's shared one is
 * never stopped): the API says so clearly and enqueues nothing, the service stays up, and once
 * Redis is back the same service takes commands again without a restart.
 */
let redis: OwnRedis;
let svc: Service;
const startRedis = () => redis.start();
const stopRedis = () => redis.stop();

before(async () => {
  redis = await ownRedis();
  svc = await startService({ REDIS_URL: redis.url });
});

after(async () => {
  await svc?.stop();
  await redis?.remove();
});

test('Redis away: a clear 503, nothing enqueued, the service stays up and recovers by itself', async () => {
  const before = await cli(svc, ['version', '--format', '{{.Server.Os}}']);
  assert.equal(before.code, 0, before.stderr);
  assert.equal(before.stdout, 'linux\n');

  await stopRedis();
  const down = await api(svc, 'POST', '/api/jobs', { command: 'ps' });
  assert.equal(down.status, 503);
  assert.match(down.body.message, /Redis\) is unreachable; nothing was enqueued/);
  const viaCli = await cli(svc, ['ps']);
  assert.equal(viaCli.code, 1);
  assert.match(viaCli.stderr, /unreachable/);
  const ready = await fetch(`${svc.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);

  await startRedis();
  let after: Awaited<ReturnType<typeof cli>> | undefined;
  for (let i = 0; i < 40; i++) {
    after = await cli(svc, ['version', '--format', '{{.Server.Os}}']);
    if (after.code === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(after?.code, 0, after?.stderr);
  assert.equal(after?.stdout, 'linux\n');
  assert.equal(svc.proc.exitCode, null, 'the service is still the same process');
});
