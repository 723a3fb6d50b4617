/**
 * bench/dispatch: what dockops adds on top of docker.
 *
 * 1. End to end: `dockops docker run --rm busybox true` (CLI → API → Redis → worker → engine →
 *    back, the compiled build) against `docker run --rm busybox true` on the same engine, runs
 *    alternating so both see the same machine state. Medians and their ratio.
 * 2. The queue's own round trip: a dockops job (JobQueues.enqueue → the dockops worker →
 *    `version` against the engine → completed) against a bare BullMQ add → no-op worker →
 *    completed loop on the same Redis, alternating; the engine's /version alone is measured
 *    too, so the queue's share can be read off.
 *
 * Run: `npm run bench` (brings nothing up: run `npm run stack up` first). Writes bench/RESULTS.md.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import Docker from 'dockerode';
import { pino } from 'pino';
import { JobQueues } from '../src/jobs/queue.js';
import { ArtifactStore } from '../src/artifacts/store.js';
import { BackupTargets, LocalTarget } from '../src/backup/target.js';
import { startWorker } from '../src/jobs/worker.js';
import { parseCommand, type JobSpec } from '../src/commands/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOCKER_HOST = process.env.DOCKER_HOST ?? 'unix:///run/dockops/docker.sock';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const QUEUE_JOBS = Number(process.env.BENCH_QUEUE_JOBS ?? 500);
const CLIS = ['/usr/local/bin/docker', '/usr/bin/docker'].filter((p) => spawnSync(p, ['--version']).status === 0);

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const median = (xs: number[]) => q(xs, 0.5);
const f = (n: number) => n.toFixed(2);

async function startService() {
  const token = randomBytes(16).toString('hex');
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), 'start'], {
    env: { ...process.env, DOCKER_HOST, REDIS_URL, DOCKOPS_PORT: '0', DOCKOPS_ANNOUNCE: '1', DOCKOPS_API_TOKENS: `bench:${token}`, DOCKOPS_QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    proc.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`service exited ${code}: ${err}`)));
  });
  return { url, token, prefix, proc };
}

async function endToEnd() {
  const svc = await startService();
  const env = { ...process.env, DOCKER_HOST, DOCKOPS_API_URL: svc.url, DOCKOPS_TOKEN: svc.token };
  const args = ['run', '--rm', 'busybox', 'true'];
  const dockops = () => spawnSync(process.execPath, [path.join(ROOT, 'dist/main.js'), 'docker', ...args], { env });
  // Node's own start-up, the floor under any Node CLI (docker's Go binary starts in ~10 ms).
  const times: Record<string, number[]> = { dockops: [], 'node -e 0': [] };
  for (const c of CLIS) times[c] = [];
  // Warm-up: page cache, the engine's image and layer caches, the service's connections.
  for (let i = 0; i < 3; i++) {
    dockops();
    for (const c of CLIS) spawnSync(c, args, { env });
  }
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 ? ['dockops', 'node -e 0', ...CLIS] : [...CLIS, 'node -e 0', 'dockops'];
    for (const who of order) {
      const t0 = process.hrtime.bigint();
      const r = who === 'dockops' ? dockops() : who === 'node -e 0' ? spawnSync(process.execPath, ['-e', '0']) : spawnSync(who, args, { env });
      times[who].push(ms(t0));
      if (r.status !== 0) throw new Error(`${who} exited ${r.status}: ${r.stderr}`);
    }
  }
  svc.proc.kill('SIGTERM');
  const r = new Redis(REDIS_URL);
  const keys = await r.keys(`${svc.prefix}:*`);
  if (keys.length) await r.del(...keys);
  r.disconnect();
  return times;
}

async function queueRoundTrip() {
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const wconn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const docker = new Docker({ socketPath: DOCKER_HOST.replace('unix://', '') });
  // Bare BullMQ: add → no-op worker → completed, observed through QueueEvents.
  const rawPrefix = `bench-raw-${randomBytes(3).toString('hex')}`;
  const rawQ = new Queue('raw', { connection: conn, prefix: rawPrefix });
  const rawW = new Worker('raw', async () => ({ ok: true }), { connection: wconn, prefix: rawPrefix, concurrency: 4 });
  const rawE = new QueueEvents('raw', { connection: conn.duplicate(), prefix: rawPrefix });
  await Promise.all([rawW.waitUntilReady(), rawE.waitUntilReady()]);
  // dockops: enqueue a parsed `version` spec → the dockops worker (parse again, dispatch, run, store).
  const prefix = `bench-dockops-${randomBytes(3).toString('hex')}`;
  const jobs = new JobQueues(conn, prefix, ['local']);
  const w = startWorker({ host: 'local', docker, connection: wconn.duplicate(), prefix, concurrency: 4, log: pino({ level: 'silent' }), resultMaxBytes: 1 << 20, artifacts: new ArtifactStore(os.tmpdir(), 1 << 20), backups: new BackupTargets([new LocalTarget('local', path.join(os.tmpdir(), 'dockops-bench-backups'))]) });
  await w.worker.waitUntilReady();
  const ev = await jobs.queueEvents('local');
  const spec = (parseCommand('version') as { spec: JobSpec }).spec;
  const raw: number[] = [];
  const ours: number[] = [];
  const engine: number[] = [];
  for (let i = 0; i < QUEUE_JOBS; i++) {
    let t0 = process.hrtime.bigint();
    const a = await rawQ.add('x', { i });
    await a.waitUntilFinished(rawE);
    raw.push(ms(t0));
    t0 = process.hrtime.bigint();
    const b = await jobs.enqueue({ spec, origin: { door: 'api', token: 'bench' }, host: 'local', command: 'version' });
    await b.waitUntilFinished(ev);
    ours.push(ms(t0));
    t0 = process.hrtime.bigint();
    await docker.version();
    engine.push(ms(t0));
  }
  await w.close(1000);
  await Promise.all([rawW.close(), rawE.close(), rawQ.close(), jobs.close()]);
  for (const p of [rawPrefix, prefix]) {
    const keys = await conn.keys(`${p}:*`);
    if (keys.length) await conn.del(...keys);
  }
  conn.disconnect();
  wconn.disconnect();
  return { raw, ours, engine };
}

async function main() {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const e2e = await endToEnd();
  const rt = await queueRoundTrip();
  const cliRows = Object.entries(e2e).map(([who, t]) => `| ${who === 'dockops' ? 'dockops docker run --rm busybox true' : who === 'node -e 0' ? '`node -e 0` (Node start-up alone, the floor of any Node CLI)' : `${who} run --rm busybox true (${spawnSync(who, ['--version']).stdout.toString().trim().replace(/^Docker version /, 'v')})`} | ${f(median(t))} | ${f(q(t, 0.9))} | ${t.length} |`);
  const ratios = CLIS.map((c) => `- dockops / \`${c}\`: **${(median(e2e.dockops) / median(e2e[c])).toFixed(2)}** (target ≤ 1.3)`);
  const md = `# Benchmark results

Written by \`npm run bench\` (bench/dispatch.ts; method in bench/README.md). Last run: ${new Date().toISOString()}
on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, Docker engine from Debian's package.

## bench/dispatch — end to end, alternating runs (${RUNS} each, after 3 warm-up rounds)

| command | median ms | p90 ms | runs |
|---|---|---|---|
${cliRows.join('\n')}

${ratios.join('\n')}
- dockops minus Node's own start-up, over the docker CLI: **${((median(e2e.dockops) - median(e2e['node -e 0'])) / median(e2e[CLIS[CLIS.length - 1]])).toFixed(2)}**

## bench/dispatch — queue round trip (${QUEUE_JOBS} jobs each, alternating, one at a time)

| loop | p50 ms | p90 ms | p99 ms |
|---|---|---|---|
| bare BullMQ: add → no-op worker → completed | ${f(q(rt.raw, 0.5))} | ${f(q(rt.raw, 0.9))} | ${f(q(rt.raw, 0.99))} |
| dockops: enqueue → worker (re-parse, dispatch, \`version\` on the engine, store) → completed | ${f(q(rt.ours, 0.5))} | ${f(q(rt.ours, 0.9))} | ${f(q(rt.ours, 0.99))} |
| the engine's GET /version alone (dockerode) | ${f(q(rt.engine, 0.5))} | ${f(q(rt.engine, 0.9))} | ${f(q(rt.engine, 0.99))} |

dockops queue overhead at p50 (dockops − engine call): **${f(q(rt.ours, 0.5) - q(rt.engine, 0.5))} ms** (target ≤ 3 ms); bare BullMQ p50 ${f(q(rt.raw, 0.5))} ms.
`;
  const file = path.join(ROOT, 'bench/RESULTS.md');
  let other = '';
  try {
    const prev = readFileSync(file, 'utf8');
    // Keep the other benchmarks' sections.
    const i = prev.search(/\n## bench\/(surface|soak)/);
    if (i >= 0) other = prev.slice(i);
  } catch {
    /* first run */
  }
  writeFileSync(file, md + other);
  process.stdout.write(md);
}

main().then(() => process.exit(0)).catch((err) => {
  console.error(err);
  process.exit(1);
});
