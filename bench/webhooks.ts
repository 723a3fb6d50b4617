/**
 * bench/webhooks: how many signed GitHub push webhooks the running service accepts, and how fast.
 *
 * The compiled service runs as `dockops serve` (the doors, no worker: builds are enqueued, not run)
 * with one build rule that matches every branch. Real push payloads (@octokit/webhooks-examples),
 * each with its own delivery ID and commit, signed with HMAC-SHA256 as GitHub signs them, are sent:
 *
 * 1. open loop at rising rates (requests leave on schedule whatever the answers; latency is counted
 *    from the scheduled time, so a stall shows in it): accepted per second and p50/p99 latency;
 * 2. closed loop with BENCH_WEBHOOK_CONCURRENCY requests in flight: the most it accepts per second.
 *
 * Two kinds of push: each to a branch of its own (enqueue only), and 100 branches in turn (every
 * push supersedes the queued build of the one before: enqueue, then remove). The baseline is a bare
 * BullMQ `add` loop on the same Redis, at the same rates and concurrency, with a job of the same size.
 *
 * Run: `npm run bench:webhooks` with the stack up. Writes its section of bench/RESULTS.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ROOT, quantile, writeSection } from './results.js';

const require = createRequire(import.meta.url);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DOCKER_HOST = process.env.DOCKER_HOST ?? 'unix:///run/dockops/docker.sock';
const RATES = (process.env.BENCH_WEBHOOK_RATES ?? '250,500,1000,1500,2000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 4);
const CONCURRENCY = Number(process.env.BENCH_WEBHOOK_CONCURRENCY ?? 32);
const SECRET = randomBytes(16).toString('hex');

const examples = require('@octokit/webhooks-examples') as Array<{ name: string; examples: Array<Record<string, any>> }>; // eslint-disable-line @typescript-eslint/no-explicit-any
const PUSH = examples.find((e) => e.name === 'push')!.examples[4];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

type Mode = 'own branch' | 'supersede';

// The real payload, serialised once with stand-ins for what changes per push (the generator shares
// the cores with the service: it must cost as little as it can).
const TEMPLATE = JSON.stringify({ ...PUSH, ref: '@@REF@@', after: '@@AFTER@@' });

function pushBody(i: number, mode: Mode): string {
  return TEMPLATE.replace('@@REF@@', `refs/heads/bench-${mode === 'own branch' ? i : i % 100}`).replace('@@AFTER@@', randomBytes(20).toString('hex'));
}

async function startService(jobsDir: string) {
  const prefix = `bench-wh-${randomBytes(4).toString('hex')}`;
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), 'serve'], {
    env: {
      ...process.env,
      REDIS_URL,
      DOCKOPS_DOCKER_HOSTS: `bench=${DOCKER_HOST}`,
      DOCKOPS_PORT: '0',
      DOCKOPS_ANNOUNCE: '1',
      DOCKOPS_API_TOKENS: `bench:${randomBytes(16).toString('hex')}`,
      DOCKOPS_QUEUE_PREFIX: prefix,
      GITHUB_WEBHOOK_SECRET: SECRET,
      DOCKOPS_JOBS_DIR: jobsDir,
      LOG_LEVEL: 'info',
    },
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
  return { url, prefix, proc };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One signed delivery, as GitHub sends it; resolves to the HTTP status. */
function deliver(url: string, body: string): Promise<number> {
  const u = new URL(`${url}/webhooks/github`);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-github-event': 'push',
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Step {
  rate: number;
  accepted: number;
  sent: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** Sends `rate` requests a second for `seconds`, on schedule; latency from the scheduled time. */
async function openLoop(rate: number, seconds: number, send: (i: number) => Promise<boolean>): Promise<Step> {
  const n = Math.round(rate * seconds);
  const lat: number[] = [];
  let accepted = 0;
  const pending: Promise<void>[] = [];
  const start = now();
  let i = 0;
  while (i < n) {
    const t = now();
    while (i < n && start + (i * 1000) / rate <= t) {
      const due = start + (i * 1000) / rate;
      pending.push(
        send(i).then(
          (ok) => {
            lat.push(now() - due);
            if (ok) accepted++;
          },
          () => void lat.push(now() - due),
        ),
      );
      i++;
    }
    await sleep(1);
  }
  await Promise.all(pending);
  const elapsed = (now() - start) / 1000;
  return { rate, accepted, sent: n, perSecond: accepted / elapsed, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) };
}

/** `c` requests in flight for `seconds`: how many are accepted per second. */
async function closedLoop(c: number, seconds: number, send: (i: number) => Promise<boolean>): Promise<{ perSecond: number; p99: number }> {
  const end = now() + seconds * 1000;
  let accepted = 0;
  let i = 0;
  const lat: number[] = [];
  const start = now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (now() < end) {
        const t0 = now();
        if (await send(i++).catch(() => false)) accepted++;
        lat.push(now() - t0);
      }
    }),
  );
  return { perSecond: accepted / ((now() - start) / 1000), p99: quantile(lat, 0.99) };
}

async function dropPrefix(r: Redis, prefix: string) {
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await r.del(...keys);
  } while (cursor !== '0');
}

async function main() {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dockops-bench-wh-'));
  const jobsDir = path.join(tmp, 'jobs');
  mkdirSync(jobsDir);
  writeFileSync(
    path.join(jobsDir, 'builds.yml'),
    `builds:\n  - repository: ${PUSH.repository.full_name}\n    image: localhost:5000/dockops-bench-webhooks\n    host: bench\n    rules:\n      - type: branch\n        name: /^bench-.*$/\n        tag: "{sourceref}"\n`,
  );
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const results: Record<string, { steps: Step[]; max: { perSecond: number; p99: number } }> = {};

  // Bare BullMQ: the same Redis, a job of the same size as a build's.
  const rawPrefix = `bench-wh-raw-${randomBytes(3).toString('hex')}`;
  const rawQ = new Queue('raw', { connection: r, prefix: rawPrefix });
  const data = { spec: { kind: 'autobuild', repository: PUSH.repository.full_name, context: `${PUSH.repository.clone_url}#${'a'.repeat(40)}`, tags: ['localhost:5000/x:latest'], labels: { a: 'b'.repeat(400) } }, origin: { door: 'github' } };
  const add = async () => Boolean(await rawQ.add('autobuild', data, { jobId: randomUUID(), removeOnComplete: 1000 }));
  results['bare BullMQ add'] = { steps: [], max: { perSecond: 0, p99: 0 } };
  for (const rate of RATES) results['bare BullMQ add'].steps.push(await openLoop(rate, SECONDS, add));
  results['bare BullMQ add'].max = await closedLoop(CONCURRENCY, SECONDS, add);
  await rawQ.close();
  await dropPrefix(r, rawPrefix);

  for (const mode of ['own branch', 'supersede'] as Mode[]) {
    const svc = await startService(jobsDir);
    const send = async (i: number) => (await deliver(svc.url, pushBody(i, mode))) === 202;
    // Warm-up: connections, JIT, the first hundred branches.
    for (let i = 0; i < 200; i++) await send(1_000_000 + i);
    const key = `webhooks (${mode === 'own branch' ? 'each push to a branch of its own' : '100 branches in turn: each push supersedes a queued build'})`;
    results[key] = { steps: [], max: { perSecond: 0, p99: 0 } };
    for (const rate of RATES) results[key].steps.push(await openLoop(rate, SECONDS, send));
    results[key].max = await closedLoop(CONCURRENCY, SECONDS, send);
    svc.proc.kill('SIGTERM');
    await new Promise((res) => svc.proc.once('exit', res));
    await dropPrefix(r, svc.prefix);
  }
  r.disconnect();
  agent.destroy();
  rmSync(tmp, { recursive: true, force: true });

  const rows: string[] = [];
  for (const [what, res] of Object.entries(results)) {
    for (const s of res.steps) rows.push(`| ${what} | ${s.rate}/s | ${s.perSecond.toFixed(0)}/s${s.accepted < s.sent ? ` (${s.sent - s.accepted} refused)` : ''} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} |`);
    rows.push(`| ${what} | max, ${CONCURRENCY} in flight | **${res.max.perSecond.toFixed(0)}/s** | | ${res.max.p99.toFixed(1)} |`);
  }
  const at500 = (k: string) => results[k].steps.find((s) => s.rate === 500)?.p99;
  const hooks = Object.keys(results).filter((k) => k.startsWith('webhooks'));
  const md = `
## bench/webhooks — signed push webhooks against the running service

\`npm run bench:webhooks\` (bench/webhooks.ts; method in bench/README.md). Last run: ${new Date().toISOString()}
on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}. The load generator runs on the same
cores as the service and Redis. ${SECONDS} s per rate, open loop (latency from the scheduled send time).

| what | offered | accepted | p50 ms | p99 ms |
|---|---|---|---|---|
${rows.join('\n')}

${hooks.map((k) => `- ${k}: most accepted **${results[k].max.perSecond.toFixed(0)}/s** (target ≥ 1000/s), p99 at 500/s **${at500(k)?.toFixed(1) ?? 'n/a'} ms** (target ≤ 50 ms)`).join('\n')}
- bare BullMQ add on the same Redis: ${results['bare BullMQ add'].max.perSecond.toFixed(0)}/s, p99 at 500/s ${at500('bare BullMQ add')?.toFixed(1) ?? 'n/a'} ms
`;
  writeSection('webhooks', md);
  process.stdout.write(md);
}

main().then(() => process.exit(0)).catch((err) => {
  console.error(err);
  process.exit(1);
});
