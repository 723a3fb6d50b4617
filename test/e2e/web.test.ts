import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { api, cli, startService, type Service } from '../support/service.js';
import { docker, dropPrefix, redis, uniqueName } from '../support/env.js';

// The job page, Bull Board and /metrics of the real `dockops start`, seen from a headless
// Chromium (Debian's, /usr/bin/chromium: scripts/test.sh installs it) and from a scraper.

const CHROMIUM = process.env.DOCKOPS_TEST_CHROMIUM ?? '/usr/bin/chromium';
const METRICS_TOKEN = randomBytes(16).toString('hex');
let svc: Service;
let browser: Browser;
let dir: string;
const volume = uniqueName('webvol');
const image = uniqueName('webimg');

/** A page path with the signed link the API gives for a job (the link names DOCKOPS_PUBLIC_URL; the test's port is its own). */
async function signedPath(id: string): Promise<string> {
  const j = await api(svc, 'GET', `/api/jobs/${id}`);
  assert.equal(j.status, 200);
  const u = new URL(j.body.page.url);
  return `${u.pathname}${u.search}`;
}

async function submit(args: string[]): Promise<string> {
  const r = await api(svc, 'POST', '/api/jobs', { args });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.id as string;
}

async function finished(id: string) {
  for (;;) {
    const r = await api(svc, 'GET', `/api/jobs/${id}/logs?from=0&wait=20`);
    if (r.body.done) return r.body.job;
  }
}

const fetchText = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  return { status: res.status, text: await res.text(), headers: res.headers };
};

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-web-'));
  mkdirSync(path.join(dir, 'backups'));
  svc = await startService({
    DOCKOPS_ARTIFACT_DIR: path.join(dir, 'artifacts'),
    DOCKOPS_BACKUP_TARGETS: `local=file://${path.join(dir, 'backups')}`,
    DOCKOPS_METRICS_TOKEN: METRICS_TOKEN,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM });
});

after(async () => {
  await browser?.close();
  await svc?.stop();
  const r = redis();
  await dropPrefix(r, svc.prefix);
  r.disconnect();
  const d = docker();
  await d.getVolume(volume).remove().catch(() => undefined);
  await d.getImage(image).remove({ force: true }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('the job page of a running job shows its output as it comes, then the final state and exit code, without a reload', async () => {
  const id = await submit(['run', '--rm', 'busybox', 'sh', '-c', 'echo one; sleep 2; echo two']);
  const page = await browser.newPage();
  try {
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    await page.goto(`${svc.url}${await signedPath(id)}`);
    assert.equal(navigations, 1);
    assert.equal(await page.textContent('#command'), (await api(svc, 'GET', `/api/jobs/${id}`)).body.command);
    assert.match((await page.textContent('#command')) ?? '', /^run --rm busybox sh -c .echo one; sleep 2; echo two.$/);
    assert.equal(await page.textContent('#host'), 'local');
    assert.equal(await page.textContent('#origin'), 'API, token "e2e" from 127.0.0.1');
    await page.waitForFunction(() => document.getElementById('log')!.textContent!.includes('one'));
    // "one" is shown while the job still sleeps: the page follows it live.
    const whenOne = await page.evaluate(() => ({ log: document.getElementById('log')!.textContent, state: document.getElementById('state')!.textContent }));
    assert.equal(whenOne.log, 'one\n');
    assert.notEqual(whenOne.state, 'completed');
    await page.waitForFunction(() => document.getElementById('state')!.textContent === 'completed', undefined, { timeout: 60_000 });
    assert.equal(await page.textContent('#log'), 'one\ntwo\n');
    assert.equal(await page.textContent('#exit-code'), '0');
    assert.equal(await page.isVisible('#result'), true);
    assert.equal(await page.isVisible('#live'), false);
    assert.equal(navigations, 1, 'the page was not reloaded');
  } finally {
    await page.close();
  }
});

test('HTML in a job\'s output is shown as text, never run (server-drawn and live)', async () => {
  const id = await submit(['run', '--rm', 'busybox', 'sh', '-c', "echo '<script>alert(1)</script>'; sleep 1; echo '<img src=x onerror=alert(2)><b>bold</b>'; exit 3"]);
  const page = await browser.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  try {
    await page.goto(`${svc.url}${await signedPath(id)}`);
    await page.waitForFunction(() => document.getElementById('state')!.textContent === 'completed', undefined, { timeout: 60_000 });
    assert.equal(await page.textContent('#log'), '<script>alert(1)</script>\n<img src=x onerror=alert(2)><b>bold</b>\n');
    assert.equal(await page.textContent('#exit-code'), '3');
    assert.equal(await page.locator('#log script, #log img, #log b').count(), 0);
    // Drawn by the server this time (the job is over): the same text, no element made of it.
    await page.reload();
    assert.equal(await page.textContent('#log'), '<script>alert(1)</script>\n<img src=x onerror=alert(2)><b>bold</b>\n');
    assert.equal(await page.locator('#log script, #log img, #log b').count(), 0);
    assert.equal(await page.textContent('#command'), (await api(svc, 'GET', `/api/jobs/${id}`)).body.command);
    assert.match((await page.textContent('#command')) ?? '', /<script>alert\(1\)<\/script>/);
    assert.deepEqual(dialogs, []);
  } finally {
    await page.close();
  }
});

test('without a signed link or a login the job page and its feed are refused; a forged link too', async () => {
  const id = await submit(['run', '--rm', 'busybox', 'echo', 'secret-output-7']);
  await finished(id);
  const plain = await fetchText(`${svc.url}/jobs/${id}`, { headers: { accept: 'text/html' } });
  assert.equal(plain.status, 401);
  assert.doesNotMatch(plain.text, /secret-output-7/);
  assert.match(plain.text, /<form method="post" action="\/login">/);
  const feed = await fetchText(`${svc.url}/jobs/${id}/poll?from=0`);
  assert.equal(feed.status, 401);
  assert.doesNotMatch(feed.text, /secret-output-7/);
  const good = new URL(`${svc.url}${await signedPath(id)}`);
  const forged = `${svc.url}/jobs/${id}?expires=${good.searchParams.get('expires')}&sig=${'0'.repeat(64)}`;
  const f = await fetchText(forged);
  assert.equal(f.status, 403);
  assert.doesNotMatch(f.text, /secret-output-7/);
  // A link signed for another job does not open this one.
  const other = await submit(['run', '--rm', 'busybox', 'true']);
  const otherLink = new URL(`${svc.url}${await signedPath(other)}`);
  const cross = await fetchText(`${svc.url}/jobs/${id}${otherLink.search}`);
  assert.equal(cross.status, 403);
  const wrongToken = await fetchText(`${svc.url}/jobs/${id}`, { headers: { authorization: `Bearer ${'x'.repeat(32)}` } });
  assert.equal(wrongToken.status, 401);
  const ok = await fetchText(`${svc.url}${await signedPath(id)}`);
  assert.equal(ok.status, 200);
  assert.match(ok.text, /secret-output-7/);
  assert.equal(ok.headers.get('referrer-policy'), 'no-referrer');
  assert.match(ok.headers.get('content-security-policy') ?? '', /script-src 'nonce-/);
});

test('logging in with an API token opens the page; a job with a file shows a download link that works', async () => {
  const id = await submit(['save', '-o', 'x.tar', 'busybox']);
  const job = await finished(id);
  assert.equal(job.exitCode, 0);
  const artifact = job.result.artifacts[0] as { name: string; size: number; sha256: string };
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  try {
    await page.goto(`${svc.url}/jobs/${id}`);
    assert.equal(await page.isVisible('input[name=token]'), true);
    assert.equal(await page.locator('#log').count(), 0);
    await page.fill('input[name=token]', 'not-the-token-at-all');
    await page.click('button[type=submit]');
    assert.match((await page.textContent('.err')) ?? '', /not one of the API tokens/);
    await page.fill('input[name=token]', svc.token);
    await page.click('button[type=submit]');
    await page.waitForSelector('#files a');
    assert.equal(new URL(page.url()).pathname, `/jobs/${id}`);
    assert.equal(await page.textContent('#state'), 'completed');
    assert.equal(await page.textContent('#files a'), 'x.tar');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#files a')]);
    const file = await download.path();
    const bytes = readFileSync(file);
    assert.equal(bytes.length, artifact.size);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), artifact.sha256);
    // The session cookie is HttpOnly: the page's script cannot read it.
    assert.equal(await page.evaluate(() => document.cookie), '');
    const cookies = await context.cookies();
    assert.equal(cookies.find((c) => c.name === 'dockops_session')?.httpOnly, true);
    assert.equal(cookies.find((c) => c.name === 'dockops_session')?.sameSite, 'Strict');
    // The same login opens Bull Board, one queue per host.
    await page.goto(`${svc.url}/admin/queues`);
    await page.waitForSelector('text=host local', { timeout: 30_000 });
  } finally {
    await context.close();
  }
});

test('Bull Board: refused without an API token, served with one (Basic or bearer), read-only', async () => {
  const no = await fetchText(`${svc.url}/admin/queues`);
  assert.equal(no.status, 401);
  assert.equal(no.headers.get('www-authenticate'), 'Basic realm="dockops", charset="UTF-8"');
  const noApi = await fetchText(`${svc.url}/admin/queues/api/queues`);
  assert.equal(noApi.status, 401);
  const wrong = await fetchText(`${svc.url}/admin/queues`, { headers: { authorization: `Basic ${Buffer.from(`admin:${'y'.repeat(32)}`).toString('base64')}` } });
  assert.equal(wrong.status, 401);
  const basic = await fetchText(`${svc.url}/admin/queues`, { headers: { authorization: `Basic ${Buffer.from(`admin:${svc.token}`).toString('base64')}` } });
  assert.equal(basic.status, 200);
  assert.match(basic.text, /<title>dockops<\/title>/);
  const queues = await fetchText(`${svc.url}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${svc.token}` } });
  assert.equal(queues.status, 200);
  const body = JSON.parse(queues.text) as { queues: Array<{ name: string; displayName: string; readOnlyMode: boolean }> };
  assert.deepEqual(
    body.queues.map((q) => [q.name, q.displayName, q.readOnlyMode]),
    [['jobs-local', 'host local', true]],
  );
});

/** One scrape as a Prometheus server would make it: `name{labels} value` lines. */
async function scrape(): Promise<Map<string, number>> {
  const r = await fetchText(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain;.*version=0\.0\.4/);
  const m = new Map<string, number>();
  for (const line of r.text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}
/** A series' value by name and labels, in any label order; 0 when absent. */
function value(m: Map<string, number>, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const [k, v] of m) {
    const b = k.indexOf('{');
    if ((b < 0 ? k : k.slice(0, b)) !== name) continue;
    const have = b < 0 ? [] : k.slice(b + 1, -1).split(/,(?=[a-z_]+=")/);
    if (want.every((w) => have.includes(w))) sum += v;
  }
  return sum;
}

test('/metrics: jobs by kind, host, state and exit code, duration histograms, backup bytes, builds, requests by door; behind DOCKOPS_METRICS_TOKEN', async () => {
  assert.equal((await fetchText(`${svc.url}/metrics`)).status, 401);
  assert.equal((await fetchText(`${svc.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
  const before = await scrape();
  const runs = [await submit(['run', '--rm', 'busybox', 'true']), await submit(['run', '--rm', 'busybox', 'true']), await submit(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])];
  const vol = await submit(['volume', 'create', volume]);
  await finished(vol);
  const put = await submit(['run', '--rm', '-v', `${volume}:/data`, 'busybox', 'sh', '-c', 'echo hello > /data/a; seq 1 5000 > /data/b']);
  await finished(put);
  const backup = await submit(['volume', 'backup', volume]);
  const b = await finished(backup);
  assert.equal(b.exitCode, 0, b.result?.stderr);
  const made = (b.result.data as { backups: Array<{ size: number; rawSize: number }> }).backups[0];
  for (const id of runs) await finished(id);
  const ctx = path.join(dir, 'ctx');
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox:latest\nRUN echo built > /built\n');
  const built = await cli(svc, ['build', '-q', '-t', image, ctx]);
  assert.equal(built.code, 0, built.stderr);
  await fetchText(`${svc.url}/api/jobs`); // an unauthenticated request: counted as a 401 of the api door

  // Jobs are counted when their "finished" event reaches the API process: wait for the last one.
  let after = await scrape();
  for (let i = 0; i < 100 && value(after, 'dockops_build_duration_seconds_count', { kind: 'image.build' }) - value(before, 'dockops_build_duration_seconds_count', { kind: 'image.build' }) < 1; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = await scrape();
  }
  const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
  assert.equal(delta('dockops_jobs_finished_total', { kind: 'container.run', host: 'local', state: 'completed', exit_code: '0' }), 3);
  assert.equal(delta('dockops_jobs_finished_total', { kind: 'container.run', host: 'local', state: 'completed', exit_code: '3' }), 1);
  assert.equal(delta('dockops_jobs_finished_total', { kind: 'volume.backup', host: 'local', state: 'completed' }), 1);
  assert.equal(delta('dockops_jobs_finished_total', { kind: 'image.build', host: 'local', state: 'completed', exit_code: '0' }), 1);
  // The histogram as `histogram_quantile` reads it: cumulative buckets ending in +Inf = count.
  assert.equal(delta('dockops_job_duration_seconds_count', { kind: 'container.run', host: 'local' }), 4);
  assert.equal(delta('dockops_job_duration_seconds_bucket', { kind: 'container.run', host: 'local', le: '+Inf' }), 4);
  const les = ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '60', '120', '300', '600', '1800', '3600', '+Inf'];
  const buckets = les.map((le) => value(after, 'dockops_job_duration_seconds_bucket', { kind: 'container.run', host: 'local', le }));
  assert.deepEqual([...buckets].sort((x, y) => x - y), buckets);
  assert.ok(value(after, 'dockops_job_duration_seconds_sum', { kind: 'container.run' }) > 0);
  assert.equal(delta('dockops_build_duration_seconds_count', { kind: 'image.build', host: 'local', state: 'ok' }), 1);
  assert.equal(delta('dockops_backups_total', { host: 'local', target: 'local', volume }), 1);
  assert.equal(delta('dockops_backup_bytes_total', { host: 'local', target: 'local', volume }), made.size);
  assert.equal(delta('dockops_backup_raw_bytes_total', { host: 'local', target: 'local', volume }), made.rawSize);
  assert.ok(made.rawSize > 5000);
  assert.ok(delta('dockops_http_requests_total', { door: 'api', method: 'POST', status: '202' }) >= 7);
  assert.equal(delta('dockops_http_requests_total', { door: 'api', method: 'GET', status: '401' }), 1);
  assert.ok(after.has('dockops_queue_jobs{host="local",state="waiting"}'));
  assert.ok(value(after, 'dockops_queue_jobs', { host: 'local', state: 'completed' }) >= 7);
  assert.ok(value(after, 'dockops_process_resident_memory_bytes', {}) > 0);
});
