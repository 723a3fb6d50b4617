import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { ArtifactLinks, loadLinkSecret, SECRET_FILE } from '../../src/artifacts/links.js';
import { startArtifactSweeper, sweepArtifacts } from '../../src/artifacts/sweep.js';
import { ArtifactStore } from '../../src/artifacts/store.js';
import { parseTtl } from '../../src/render/time.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const DAY = 86_400_000;

function tmp() {
  return mkdtempSync(path.join(os.tmpdir(), 'dockops-artifacts-unit-'));
}

test('signed links: valid until they expire, then 410-worthy; any change of id, expiry or signature is refused', () => {
  let now = 1_800_000_000_000;
  const links = new ArtifactLinks(Buffer.from('k'.repeat(32)), 'https://dockops.example.com/', DAY, () => now);
  const id = '0123456789abcdef01234567';
  const l = links.sign(id);
  assert.equal(l.expires, 1_800_000_000 + 86_400);
  assert.equal(l.expiresAt, new Date((1_800_000_000 + 86_400) * 1000).toISOString());
  const u = new URL(l.url);
  assert.equal(`${u.origin}${u.pathname}`, `https://dockops.example.com/api/artifacts/${id}`);
  const q = (k: string) => u.searchParams.get(k) ?? undefined;
  assert.deepEqual(links.verify(id, q('expires'), q('sig')), { ok: true });
  // A later expiry, another artifact or a flipped digit: forged.
  assert.equal(links.verify(id, String(l.expires + 1), q('sig')).ok, false);
  assert.equal(links.verify('0123456789abcdef01234568', q('expires'), q('sig')).ok, false);
  const flipped = (q('sig') as string).replace(/^./, (c) => (c === '0' ? '1' : '0'));
  const forged = links.verify(id, q('expires'), flipped);
  assert.equal(forged.ok, false);
  assert.equal(!forged.ok && forged.why, 'invalid');
  assert.equal(links.verify(id, q('expires'), undefined).ok, false);
  assert.equal(links.verify(id, '12x', q('sig')).ok, false);
  // Another key never verifies this link.
  assert.equal(new ArtifactLinks(Buffer.from('j'.repeat(32)), 'http://x', DAY, () => now).verify(id, q('expires'), q('sig')).ok, false);
  now += DAY - 1000;
  assert.deepEqual(links.verify(id, q('expires'), q('sig')), { ok: true });
  now += 1000;
  const expired = links.verify(id, q('expires'), q('sig'));
  assert.equal(!expired.ok && expired.why, 'expired');
  assert.match(!expired.ok ? expired.message : '', /expired at .*POST \/api\/artifacts\/0123456789abcdef01234567\/link/);
  assert.equal(links.sign(id, 60_000).expires, Math.floor(now / 1000) + 60);
});

test('the link key: the configured one, or one made once in the artifact directory (0600) that every process reads', async () => {
  const dir = tmp();
  try {
    assert.deepEqual(await loadLinkSecret('s'.repeat(40), dir), Buffer.from('s'.repeat(40)));
    assert.ok(!existsSync(path.join(dir, SECRET_FILE)), 'a configured key writes nothing');
    // Eight "processes" start at once: one key wins, all read it, no temporary file is left.
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadLinkSecret(undefined, dir)));
    assert.equal(new Set(keys.map((k) => k.toString('hex'))).size, 1);
    assert.equal(keys[0].length, 32);
    assert.equal(statSync(path.join(dir, SECRET_FILE)).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), [SECRET_FILE]);
    assert.deepEqual(await loadLinkSecret(undefined, dir), keys[0], 'kept across restarts');
    writeFileSync(path.join(dir, SECRET_FILE), 'garbage');
    await assert.rejects(loadLinkSecret(undefined, dir), /is not a link key/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the sweep removes artifacts older than the TTL, keeps young ones and writes in progress, touches nothing else', async () => {
  const root = tmp();
  try {
    const store = new ArtifactStore(root, 1024 * 1024);
    const old = await store.write('old.tar', Readable.from([Buffer.from('old')]));
    const young = await store.write('young.tar', Readable.from([Buffer.from('young')]));
    const now = Date.now();
    // Backdate the first one's createdAt by 8 days.
    const metaFile = path.join(root, old.id, 'meta.json');
    writeFileSync(metaFile, JSON.stringify({ ...JSON.parse(readFileSync(metaFile, 'utf8')), createdAt: new Date(now - 8 * DAY).toISOString() }));
    // A write in progress (no meta.json yet, a .partial- file being appended to), whose directory is old.
    const inProgress = path.join(root, 'aaaaaaaaaaaaaaaaaaaaaaaa');
    mkdirSync(inProgress);
    writeFileSync(path.join(inProgress, '.partial-big.tar'), 'growing');
    utimesSync(inProgress, new Date(now - 9 * DAY), new Date(now - 9 * DAY));
    // One abandoned by a dead process long ago.
    const abandoned = path.join(root, 'bbbbbbbbbbbbbbbbbbbbbbbb');
    mkdirSync(abandoned);
    writeFileSync(path.join(abandoned, '.partial-x.tar'), 'half');
    utimesSync(path.join(abandoned, '.partial-x.tar'), new Date(now - 9 * DAY), new Date(now - 9 * DAY));
    utimesSync(abandoned, new Date(now - 9 * DAY), new Date(now - 9 * DAY));
    // Not artifacts: the link key and a stranger's directory.
    writeFileSync(path.join(root, SECRET_FILE), 'x');
    mkdirSync(path.join(root, 'lost+found'));
    utimesSync(path.join(root, 'lost+found'), new Date(0), new Date(0));

    const removed = await sweepArtifacts(root, 7 * DAY, now);
    assert.deepEqual(removed.sort(), [old.id, 'bbbbbbbbbbbbbbbbbbbbbbbb'].sort());
    assert.equal(await store.stat(old.id), undefined);
    assert.ok(await store.stat(young.id));
    assert.ok(existsSync(path.join(inProgress, '.partial-big.tar')), 'a write in progress stays');
    assert.ok(existsSync(path.join(root, SECRET_FILE)) && existsSync(path.join(root, 'lost+found')));
    // The injected clock moves on: the young one's turn (and the stalled write's).
    assert.deepEqual((await sweepArtifacts(root, 7 * DAY, now + 10 * DAY)).sort(), [young.id, 'aaaaaaaaaaaaaaaaaaaaaaaa'].sort());
    assert.deepEqual(await sweepArtifacts(root, 0, now + 100 * DAY), [], 'TTL 0 keeps everything');
    // Two sweeps at once over the same directory both succeed.
    const again = await store.write('again.tar', Readable.from([Buffer.from('x')]));
    const both = await Promise.all([sweepArtifacts(root, 1, now + DAY), sweepArtifacts(root, 1, now + DAY)]);
    assert.ok(both.flat().includes(again.id));
    assert.equal(await store.stat(again.id), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the sweeper runs on its timer with the injected clock', async () => {
  const root = tmp();
  try {
    const store = new ArtifactStore(root, 1024);
    const a = await store.write('a.txt', Readable.from([Buffer.from('a')]));
    let now = Date.now();
    const s = startArtifactSweeper({ root, ttlMs: 60_000, log: pino({ level: 'silent' }), now: () => now, everyMs: 10 });
    try {
      assert.deepEqual(await s.sweep(), []);
      now += 61_000;
      for (let i = 0; i < 200 && (await store.stat(a.id)); i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await store.stat(a.id), undefined);
    } finally {
      s.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('TTL settings: durations, days and seconds; wrong values stop start-up naming the variable', () => {
  assert.equal(parseTtl('7d'), 7 * DAY);
  assert.equal(parseTtl('24h'), DAY);
  assert.equal(parseTtl('90m'), 90 * 60_000);
  assert.equal(parseTtl('3600'), 3_600_000);
  assert.equal(parseTtl('0'), 0);
  assert.equal(parseTtl('soon'), undefined);
  assert.equal(parseTtl('-1h'), undefined);
  const c = loadConfig({});
  assert.equal(c.artifactTtlMs, 7 * DAY);
  assert.equal(c.artifactLinkTtlMs, DAY);
  assert.equal(c.linkSecret, undefined);
  for (const [env, re] of [
    [{ DOCKOPS_ARTIFACT_TTL: 'a week' }, /DOCKOPS_ARTIFACT_TTL: "a week" is not a duration/],
    [{ DOCKOPS_ARTIFACT_LINK_TTL: '60d' }, /DOCKOPS_ARTIFACT_LINK_TTL: .*from 1s to 30d/],
    [{ DOCKOPS_ARTIFACT_LINK_TTL: '0' }, /DOCKOPS_ARTIFACT_LINK_TTL/],
    [{ DOCKOPS_LINK_SECRET: 'short' }, /DOCKOPS_LINK_SECRET: must be 32 characters or more/],
  ] as Array<[Record<string, string>, RegExp]>) {
    assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && re.test((e as Error).message), JSON.stringify(env));
  }
});

test('a Slack result with files links each one, with its size and until when the link works', async () => {
  const { jobMessage } = await import('../../src/render/slack.js');
  const view = { command: 'save -o img.tar busybox', id: 'local.9', host: 'local', state: 'completed', exitCode: 0, result: null, error: null, logUrl: 'http://x/api/jobs/local.9/logs' };
  const msg = jobMessage({ ...view, files: [{ name: 'img<1>.tar', size: 4_404_224, url: 'https://d.example/api/artifacts/0123456789abcdef01234567?expires=1&sig=ab', expiresAt: '2027-01-02T03:04:05.000Z' }] }, { stdout: '', stderr: '' });
  const text = JSON.stringify(msg.blocks);
  assert.ok(!text.includes('_no output_'));
  const files = msg.blocks.at(-1) as { text: { text: string } };
  assert.equal(files.text.text, ':package: <https://d.example/api/artifacts/0123456789abcdef01234567?expires=1&amp;sig=ab|img&lt;1&gt;.tar> (4.4MB)\n_links work without a token until 2027-01-02 03:04:05 UTC_');
  assert.ok(!JSON.stringify(jobMessage(view, { stdout: 'x', stderr: '' }).blocks).includes(':package:'), 'no files, no block');
});

test('an upload cannot be named meta.json: the artifact\'s description lives under that name', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'dockops-art-meta-'));
  try {
    const store = new ArtifactStore(root, 1024);
    for (const name of ['meta.json', 'META.JSON', 'x/meta.json']) {
      await assert.rejects(store.write(name, Readable.from([Buffer.from('{"id":"0"}')])), /"meta\.json" is reserved/);
    }
    assert.deepEqual(readdirSync(root), [], 'nothing is left of a refused upload');
    const a = await store.write('meta.json.txt', Readable.from([Buffer.from('fine')]));
    assert.equal((await store.stat(a.id))?.name, 'meta.json.txt');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
