/**
 * bench/slack-ack: how fast the Slack door acknowledges `/docker version` under load.
 *
 * The real `dockops start` process (as test/support/service.ts starts it) gets signed slash
 * commands at BENCH_SLACK_RATE a second (default 200) for BENCH_SLACK_SECONDS (default 30),
 * open loop, and the same service's bare GET /healthz at the same rate, interleaved one for one,
 * as the baseline. Every command is verified, parsed, checked against the policy, enqueued and
 * acked; its job runs (`version` against the engine) and its result goes to a response_url on a
 * local stand-in. Ack latency: from the request written to the ack read, p50/p90/p99/max.
 *
 * Run: `npm run bench:slack-ack` with the stack up. Appends its section to bench/RESULTS.md.
 */
import http from 'node:http';
import os from 'node:os';
import { writeSection } from './results.js';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startService } from '../test/support/service.js';
import { slashCommand, standInSlack } from '../test/support/slack.js';
import { signSlackRequest } from '../src/doors/slack/verify.js';
import { dropPrefix } from '../test/support/env.js';

const RATE = Number(process.env.BENCH_SLACK_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SLACK_SECONDS ?? 30);
const WARMUP_SECONDS = 3;
const SECRET = randomBytes(24).toString('hex');

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};
const f = (n: number) => n.toFixed(2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  ms: number;
  ok: boolean;
}

/** One request on a keep-alive connection; resolves with its latency once the whole answer is read. */
function timed(agent: http.Agent, url: URL, body: string | undefined, headers: Record<string, string>, check: (status: number, text: string) => boolean): Promise<Sample> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(url, { agent, method: body === undefined ? 'GET' : 'POST', headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, ok: check(res.statusCode ?? 0, Buffer.concat(chunks).toString()) }));
    });
    req.on('error', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, ok: false }));
    req.end(body);
  });
}

async function main() {
  const slack = await standInSlack();
  const svc = await startService({
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: `${slack.url}/api/`,
    SLACK_ALLOWED_CHANNELS: 'C0OPS',
    SLACK_DEFAULT_ROLE: 'viewer',
    LOG_LEVEL: 'warn',
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const events = new URL(`${svc.url}/slack/events`);
  const healthz = new URL(`${svc.url}/healthz`);
  let n = 0;
  const slashOnce = () => {
    const body = slashCommand({ text: 'version', responseUrl: `${slack.url}/respond/${n}`, triggerId: `${Date.now()}.${n++}.${randomBytes(4).toString('hex')}` });
    const sig = signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000));
    return timed(agent, events, body, { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-signature': sig.signature, 'x-slack-request-timestamp': sig.timestamp }, (s, t) => s === 200 && t.includes('job local.'));
  };
  const healthOnce = () => timed(agent, healthz, undefined, {}, (s) => s === 200);

  /** Open loop: a slash command and a /healthz every 1/RATE s, interleaved; nothing waits for answers. */
  async function load(seconds: number) {
    const slash: Promise<Sample>[] = [];
    const health: Promise<Sample>[] = [];
    const gap = 1000 / RATE / 2;
    const start = performance.now();
    let late = 0;
    for (let i = 0; i < seconds * RATE * 2; i++) {
      const due = start + i * gap;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      else late = Math.max(late, -wait);
      (i % 2 === 0 ? slash : health).push(i % 2 === 0 ? slashOnce() : healthOnce());
    }
    const elapsed = (performance.now() - start) / 1000;
    return { slash: await Promise.all(slash), health: await Promise.all(health), elapsed, late };
  }

  await load(WARMUP_SECONDS);
  const sentBefore = n;
  const loadBefore = os.loadavg()[0];
  const r = await load(SECONDS);
  const loadAfter = os.loadavg()[0];
  // Let the jobs finish and their results reach the response_urls.
  const want = n;
  const deadline = Date.now() + 120_000;
  const delivered = () => slack.posts.filter((p) => p.path.startsWith('/respond/')).length;
  while (delivered() < want && Date.now() < deadline) await sleep(200);
  const got = delivered();
  await svc.stop();
  await slack.close();
  agent.destroy();
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  await dropPrefix(redis, svc.prefix);
  redis.disconnect();

  const row = (what: string, s: Sample[]) => `| ${what} | ${s.length} | ${s.filter((x) => !x.ok).length} | ${f(q(s.map((x) => x.ms), 0.5))} | ${f(q(s.map((x) => x.ms), 0.9))} | ${f(q(s.map((x) => x.ms), 0.99))} | ${f(Math.max(...s.map((x) => x.ms)))} |`;
  const p99 = q(r.slash.map((x) => x.ms), 0.99);
  const over = (p: number) => f(q(r.slash.map((x) => x.ms), p) - q(r.health.map((x) => x.ms), p));
  const md = `
## bench/slack-ack — Slack ack latency under load (${RATE} signed \`/docker version\` a second for ${SECONDS} s)

The real \`dockops start\` process (API and worker in one, from the TypeScript sources through tsx,
\`LOG_LEVEL=warn\`), open loop after ${WARMUP_SECONDS} s of warm-up at the same rate: a signed slash command and a bare
\`GET /healthz\` of the same service, each every ${f(1000 / RATE)} ms, interleaved, on keep-alive connections. Each command
is verified, parsed, checked against the policy, enqueued and acked; its job runs \`version\` on the engine and its
result is posted to a local response_url. ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}. Last run: ${new Date().toISOString()}.

| request | count | errors | p50 ms | p90 ms | p99 ms | max ms |
|---|---|---|---|---|---|---|
${row('slash command ack (POST /slack/events)', r.slash)}
${row('baseline GET /healthz', r.health)}

- Ack p99: **${f(p99)} ms** (target ≤ 100 ms; Slack gives up at 3,000 ms). ${p99 <= 100 ? 'Met.' : 'Not met.'}
- The ack over the same service's /healthz: p50 +${over(0.5)} ms, p99 +${over(0.99)} ms.
- Machine load (1-minute average, ${os.cpus().length} cores, shared with other work): ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after.
- Sent over ${f(r.elapsed)} s (the generator fell at most ${f(r.late)} ms behind its schedule).
- Results delivered to response_urls: ${got} of ${want} commands (warm-up included: ${sentBefore} of them).
`;
  writeSection('slack-ack', md);
  process.stdout.write(md);
}

main().then(() => process.exit(0)).catch((err) => {
  console.error(err);
  process.exit(1);
});
