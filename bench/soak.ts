/**
 * bench/soak: 10,000 mixed jobs through the running service (issue 7).
 *
 * The compiled `dockops start` (API + worker, DOCKOPS_WORKER_CONCURRENCY 4) gets 10,000 jobs through the
 * API, 32 requests in flight: read verbs (version, ps -a, images, volume ls, network ls, image inspect,
 * system df) and, one in fifty, `run --rm busybox true`. It checks that every job completes exactly
 * once (QueueEvents `completed` per job ID, and the worker's own "job started" log lines per job ID),
 * and prints the service's RSS after the first 1,000 jobs and after all of them (target: within 20 %).
 * The baseline in the same run: bare BullMQ (a Queue and a Worker on the same Redis, no engine call)
 * moving the same number of jobs, for the throughput beside it.
 *
 * Run: `npm run bench:soak` with the stack up (BENCH_JOBS, default 10000). Replaces its section of
 * bench/RESULTS.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT, writeSection } from './results.js';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const DOCKER_HOST = process.env.DOCKER_HOST ?? 'unix:///run/dockops/docker.sock';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const INFLIGHT = 32;
const MIX = ['version', 'ps -a', 'images', 'volume ls', 'network ls', 'image inspect busybox:latest', 'system df'];

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function bareBullmq(n: number, prefix: string) {
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const q = new Queue('soak', { connection: conn, prefix });
  let done = 0;
  const t0 = performance.now();
  const finished = new Promise<void>((resolve) => {
    const w = new Worker('soak', async () => ({ ok: true }), { connection: conn.duplicate(), prefix, concurrency: 4 });
    w.on('completed', () => {
      if (++done === n) void w.close().then(() => resolve());
    });
  });
  for (let i = 0; i < n; i += 500) await q.addBulk(Array.from({ length: Math.min(500, n - i) }, (_, k) => ({ name: 'x', data: { i: i + k }, opts: { removeOnComplete: 1000 } })));
  await finished;
  const ms = performance.now() - t0;
  await q.obliterate({ force: true });
  await q.close();
  conn.disconnect();
  return ms;
}

async function main() {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const prefix = `dockops-soak-${randomBytes(3).toString('hex')}`;
  const token = randomBytes(16).toString('hex');
  const logFile = `/tmp/${prefix}.log`;
  const svc = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), 'start'], {
    env: { ...process.env, DOCKER_HOST, REDIS_URL, DOCKOPS_PORT: '0', DOCKOPS_ANNOUNCE: '1', DOCKOPS_API_TOKENS: `soak:${token}`, DOCKOPS_QUEUE_PREFIX: prefix, DOCKOPS_WORKER_CONCURRENCY: '4', LOG_LEVEL: 'info', DOCKOPS_ARTIFACT_DIR: `/tmp/${prefix}-artifacts`, DOCKOPS_BACKUP_TARGETS: `local=file:///tmp/${prefix}-backups` },
    // The log goes to a file: a pipe read by this process could push back on the service's logger
    // and show up as memory growth that is the bench's, not the service's.
    stdio: ['ignore', openSync(logFile, 'w'), 'pipe'],
  });
  const url = await new Promise<string>((resolve) => {
    let e = '';
    svc.stderr!.on('data', (c: Buffer) => {
      e += c;
      const m = /listening on (\S+)/.exec(e);
      if (m) resolve(m[1]!);
    });
  });
  const events = new QueueEvents('jobs-local', { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix });
  await events.waitUntilReady();
  const completed = new Map<string, number>();
  const failed = new Map<string, string>();
  let doneCount = 0;
  let onProgress = () => {};
  events.on('completed', ({ jobId }) => {
    completed.set(jobId, (completed.get(jobId) ?? 0) + 1);
    doneCount++;
    onProgress();
  });
  events.on('failed', ({ jobId, failedReason }) => {
    failed.set(jobId, failedReason);
    doneCount++;
    onProgress();
  });
  const submitted: string[] = [];
  let rss1000 = 0;
  const reached1000 = new Promise<void>((resolve) => {
    onProgress = () => {
      if (doneCount >= Math.min(1000, JOBS) && !rss1000) {
        rss1000 = rssMb(svc.pid!);
        resolve();
      }
    };
  });
  const t0 = performance.now();
  let next = 0;
  const submitOne = async () => {
    while (next < JOBS) {
      const i = next++;
      const command = i % 50 === 49 ? 'run --rm busybox:latest true' : MIX[i % MIX.length]!;
      const r = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `soak-${i}` }, body: JSON.stringify({ command }) });
      const body = (await r.json()) as { id?: string };
      if (r.status !== 202 || !body.id) throw new Error(`job ${i}: HTTP ${r.status} ${JSON.stringify(body)}`);
      submitted.push(body.id);
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, submitOne));
  await reached1000;
  while (doneCount < JOBS) await new Promise((r) => setTimeout(r, 100));
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 1000));
  const rssEnd = rssMb(svc.pid!);
  svc.kill('SIGTERM');
  await new Promise((r) => svc.once('exit', r));
  await events.close();

  // The worker's own record of each run: one "job started" line per attempt.
  const started = new Map<string, number>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"job started"')) continue;
    const id = /"jobId":"([^"]+)"/.exec(line)?.[1];
    if (id) started.set(id, (started.get(id) ?? 0) + 1);
  }
  rmSync(logFile, { force: true });
  const twice = [...completed.values()].filter((n) => n > 1).length;
  const runTwice = [...started.values()].filter((n) => n > 1).length;
  const lost = submitted.filter((id) => !completed.has(id) && !failed.has(id)).length;
  const bare = await bareBullmq(JOBS, `${prefix}-bare`);
  execFileSync('redis-cli', ['--scan', '--pattern', `${prefix}:*`]).toString().split('\n').filter(Boolean).forEach((k) => execFileSync('redis-cli', ['del', k]));
  execFileSync('rm', ['-rf', `/tmp/${prefix}-artifacts`, `/tmp/${prefix}-backups`]);

  const md = `
## bench/soak — ${JOBS} mixed jobs through the running service

The compiled \`dockops start\` (API and a worker of concurrency 4 in one process) on the local engine;
jobs submitted through the API, ${INFLIGHT} requests in flight, each with its own Idempotency-Key: ${MIX.map((m) => `\`${m}\``).join(', ')}
in turn, and one in fifty \`run --rm busybox:latest true\`. Last run: ${new Date().toISOString()}.

| | value |
|---|---|
| jobs submitted / completed / failed | ${submitted.length} / ${completed.size} / ${failed.size} |
| lost (neither completed nor failed) | **${lost}** |
| completed twice (QueueEvents) | **${twice}** |
| run twice (the worker's "job started" lines per job ID) | **${runTwice}** |
| wall time, all jobs | ${(ms / 1000).toFixed(1)} s (${(JOBS / (ms / 1000)).toFixed(0)} jobs/s) |
| baseline: bare BullMQ, same Redis, same number of no-op jobs, concurrency 4 | ${(bare / 1000).toFixed(1)} s (${(JOBS / (bare / 1000)).toFixed(0)} jobs/s) |
| service RSS after the first 1,000 jobs | ${rss1000.toFixed(0)} MB |
| service RSS after all ${JOBS} | ${rssEnd.toFixed(0)} MB (**${((rssEnd / rss1000 - 1) * 100).toFixed(1)} %**, target within 20 %) |
${failed.size ? `\nFailures: ${[...new Set(failed.values())].slice(0, 5).join('; ')}\n` : ''}`;
  writeSection('soak', md);
  process.stdout.write(md);
  if (lost || twice || runTwice) process.exitCode = 1;
}

main().then(() => process.exit(process.exitCode ?? 0)).catch((err) => {
  console.error(err);
  process.exit(1);
});
