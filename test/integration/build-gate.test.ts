import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { acquireBuild, gateKeys, releaseBuild, renewBuild } from '../../src/builds/gate.js';
import { recordBuild } from '../../src/builds/supersede.js';
import { dropPrefix, redis, testPrefix } from '../support/env.js';

const r = redis();
const prefix = testPrefix();
after(async () => {
  await dropPrefix(r, prefix);
  r.disconnect();
});

test('one build per repository, others up to the limit; a lease that lapses frees the place', async () => {
  const a = gateKeys(prefix, 'local', 'acme/web');
  const b = gateKeys(prefix, 'local', 'acme/api');
  const c = gateKeys(prefix, 'local', 'acme/docs');
  assert.deepEqual(await acquireBuild(r, a, 'local.1', 30_000, 2), { ok: true });
  // The same job again (a worker restarted it): it keeps its place.
  assert.deepEqual(await acquireBuild(r, a, 'local.1', 30_000, 2), { ok: true });
  assert.deepEqual(await acquireBuild(r, gateKeys(prefix, 'local', 'ACME/web'), 'local.2', 30_000, 2), { ok: false, reason: 'repo', holder: 'local.1' });
  assert.deepEqual(await acquireBuild(r, b, 'local.3', 30_000, 2), { ok: true });
  assert.deepEqual(await acquireBuild(r, c, 'local.4', 30_000, 2), { ok: false, reason: 'full', running: 2 });
  // Another host has places of its own.
  assert.deepEqual(await acquireBuild(r, gateKeys(prefix, 'other', 'acme/docs'), 'other.5', 30_000, 2), { ok: true });
  const waiting = await releaseBuild(r, a, 'local.1');
  assert.deepEqual(waiting.sort(), ['local.2', 'local.4'], 'who waited is handed back to be promoted');
  assert.deepEqual(await acquireBuild(r, a, 'local.2', 30_000, 2), { ok: true });
  assert.equal(await renewBuild(r, a, 'local.2', 30_000), true);
  assert.equal(await renewBuild(r, a, 'local.1', 30_000), false, 'a released lease is not renewed');
  // A worker that died: its short lease lapses and the place is free again.
  assert.deepEqual(await acquireBuild(r, c, 'local.4', 30_000, 2), { ok: false, reason: 'full', running: 2 });
  await releaseBuild(r, a, 'local.2');
  assert.deepEqual(await acquireBuild(r, a, 'local.6', 200, 2), { ok: true });
  assert.deepEqual(await acquireBuild(r, c, 'local.4', 30_000, 2), { ok: false, reason: 'full', running: 2 });
  for (let i = 0; i < 50 && (await r.exists(a.lock)); i++) await new Promise((res) => setTimeout(res, 50));
  assert.deepEqual(await acquireBuild(r, c, 'local.4', 30_000, 2), { ok: true });
  assert.deepEqual(await acquireBuild(r, a, 'local.7', 30_000, 3), { ok: true }, 'the lapsed lock is free');
});

test('recordBuild: the newest build of a ref and rule replaces the older; a redelivery changes nothing', async () => {
  const key = { host: 'local', repository: 'acme/web', sourceref: 'main', rule: 0 };
  assert.equal(await recordBuild(r, prefix, key, 'local.a'), undefined);
  assert.equal(await recordBuild(r, prefix, key, 'local.b'), 'local.a');
  assert.equal(await recordBuild(r, prefix, key, 'local.a'), undefined, 'local.a again is a redelivery');
  assert.equal(await recordBuild(r, prefix, { ...key, rule: 1 }, 'local.c'), undefined, 'another rule is another build');
  assert.equal(await recordBuild(r, prefix, { ...key, sourceref: 'dev' }, 'local.d'), undefined, 'another branch is another build');
  assert.equal(await recordBuild(r, prefix, { ...key, repository: 'ACME/Web' }, 'local.e'), 'local.b');
  assert.deepEqual(await r.lrange(`${prefix}:builds`, 0, -1), ['local.e', 'local.d', 'local.c', 'local.b', 'local.a']);
});
