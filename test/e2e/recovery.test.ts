import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, cli, startService, type Service } from '../support/service.js';

/**
 * Redis going away and coming back, with a Redis of the test's own (the machine's shared one is
 * never stopped): the API says so clearly and enqueues nothing, the service stays up, and once
 * Redis is back the same service takes commands again without a restart.
 */
const PORT = 16390 + Math.floor(Math.random() * 50);
let dir: string;
let redisProc: ChildProcess | undefined;
let svc: Service;

async function startRedis() {
  redisProc = spawn('redis-server', ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(PORT), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('test redis did not start');
}

async function stopRedis() {
  const p = redisProc;
  if (!p || p.exitCode !== null) return;
  await new Promise((r) => {
    p.once('exit', r);
    p.kill('SIGTERM');
  });
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-redis-'));
  await startRedis();
  svc = await startService({ REDIS_URL: `redis://127.0.0.1:${PORT}` });
});

after(async () => {
  await svc?.stop();
  await stopRedis();
  rmSync(dir, { recursive: true, force: true });
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
