import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import tar from 'tar-stream';
import { TarScanner, tarSize } from '../../src/backup/tarscan.js';
import { parseRetention, planPrune } from '../../src/backup/retention.js';
import { backupId } from '../../src/backup/backup.js';
import type { Manifest } from '../../src/backup/target.js';
import { parseCommand } from '../../src/commands/index.js';

async function scan(build: (p: tar.Pack) => void) {
  const pack = tar.pack();
  build(pack);
  pack.finalize();
  const s = new TarScanner();
  await pipeline(pack, s, new Writable({ write: (_c, _e, cb) => cb() }));
  return s;
}

test('the tar scanner counts entries without reading contents, through PAX and GNU long names', async () => {
  const s = await scan((p) => {
    p.entry({ name: 'root/', type: 'directory' });
    p.entry({ name: 'root/a.txt' }, 'x'.repeat(1000));
    p.entry({ name: `root/${'long-name-'.repeat(30)}.txt` }, 'long');
    p.entry({ name: 'root/ünïcødé ☃' }, 'u');
    p.entry({ name: 'root/link', type: 'symlink', linkname: 'a.txt' });
    p.entry({ name: 'root/hard', type: 'link', linkname: 'root/a.txt' });
    p.entry({ name: 'root/empty' }, '');
  });
  assert.equal(s.entries, 7);
  assert.equal(s.ended, true);
  assert.equal(s.bytes % 512, 0);
});

test('a scanner made with hash is the archive\'s meter: the sha256 and size of exactly what passed', async () => {
  const pack = tar.pack();
  pack.entry({ name: 'd/', type: 'directory' });
  pack.entry({ name: 'd/f' }, Buffer.alloc(300_000, 7));
  pack.finalize();
  const chunks: Buffer[] = [];
  const s = new TarScanner({ hash: true });
  await pipeline(pack, s, new Writable({ write: (c, _e, cb) => (chunks.push(c), cb()) }));
  const all = Buffer.concat(chunks);
  assert.equal(s.entries, 2);
  assert.equal(s.bytes, all.length);
  assert.equal(s.digest(), createHash('sha256').update(all).digest('hex'));
  assert.throws(() => new TarScanner().digest(), /without hash/);
});

test('tar size fields: octal and GNU base-256', () => {
  assert.equal(tarSize(Buffer.from('00000001750\0')), 1000);
  const b = Buffer.alloc(12);
  b[0] = 0x80;
  b.writeUIntBE(10 * 1024 ** 3, 6, 6);
  assert.equal(tarSize(b), 10 * 1024 ** 3);
});

test('a truncated tar is seen as not ended', async () => {
  const pack = tar.pack();
  pack.entry({ name: 'f' }, 'y'.repeat(5000));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const all = Buffer.concat(chunks).subarray(0, 2048);
  const s = new TarScanner();
  await pipeline(async function* () { yield all; }, s, new Writable({ write: (_c, _e, cb) => cb() }));
  assert.equal(s.ended, false);
});

test('backup IDs sort by time and are the same for every attempt of a job', () => {
  const t = Date.parse('2026-12-01T03:15:00.123Z');
  const id = backupId(t, 'local.abc', 'db');
  assert.match(id, /^20261201T031500Z-[0-9a-f]{6}$/);
  assert.equal(backupId(t, 'local.abc', 'db'), id);
  assert.notEqual(backupId(t, 'local.abc', 'other'), id);
});

const DAY = 86_400_000;
function manifest(i: number, at: number, extra: Partial<Manifest> = {}): Manifest {
  return {
    id: `${new Date(at).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${i.toString(16).padStart(6, '0')}`,
    volume: 'db', host: 'local', createdAt: new Date(at).toISOString(), file: `x${i}.tar.zst`, size: 1000, sha256: 'a'.repeat(64),
    rawSize: 10_000, entries: 10, compression: 'zstd', encryption: 'none', root: 'db', durationMs: 1, stopped: [], dockopsVersion: '0', driver: 'local', labels: {}, options: null,
    ...extra,
  };
}

test('retention over a simulated year of nightly backups keeps exactly the counted ones', () => {
  const start = Date.parse('2026-01-01T02:00:00Z');
  let kept: Manifest[] = [];
  const removedTotal: string[] = [];
  const rules = parseRetention('last=7,daily=7,weekly=4,monthly=12');
  for (let day = 0; day < 365; day++) {
    const now = start + day * DAY;
    kept.push(manifest(day, now));
    const plan = planPrune('db', kept, rules, now + 60_000, 0.5);
    assert.equal(plan.held, undefined);
    removedTotal.push(...plan.drop.map((m) => m.id));
    kept = plan.keep.map((k) => k.m);
    assert.ok(kept.length >= 1 && kept.length <= 7 + 4 + 12, `day ${day}: ${kept.length} kept`);
  }
  // At the end: the last 7 days, 4 weeks' newest, 12 months' newest (overlapping), nothing lost twice.
  const days = new Set(kept.map((m) => m.createdAt.slice(0, 10)));
  assert.equal(days.size, kept.length);
  for (let i = 0; i < 7; i++) assert.ok(days.has(new Date(start + (364 - i) * DAY).toISOString().slice(0, 10)), `day -${i} kept`);
  const months = new Set(kept.map((m) => m.createdAt.slice(0, 7)));
  assert.equal(months.size, 12, 'one per month of the year');
  assert.equal(new Set(removedTotal).size, removedTotal.length, 'each backup removed once');
  assert.equal(kept.length + removedTotal.length, 365);
});

test('retention never removes the newest verified backup, nor all of them', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  const list = [
    manifest(1, now - 40 * DAY, { verifiedAt: new Date(now - 39 * DAY).toISOString() }),
    manifest(2, now - 35 * DAY),
    manifest(3, now - 31 * DAY),
  ];
  const plan = planPrune('db', list, { maxAgeMs: 30 * DAY }, now, 0.5);
  assert.deepEqual(plan.keep.map((k) => [k.m.id, k.why]), [[list[0].id, ['newest verified']]]);
  assert.deepEqual(plan.drop.map((m) => m.id).sort(), [list[1].id, list[2].id].sort());
  const none = planPrune('db', [list[1], list[2]], { maxAgeMs: DAY }, now, 0.5);
  assert.equal(none.keep.length, 1, 'the newest stays when none is verified');
  assert.deepEqual(none.keep[0].why, ['newest (none verified)']);
});

test('pruning is held when the newest backup shrank to less than the ratio of the one before', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  const list = [manifest(1, now - 3 * DAY), manifest(2, now - 2 * DAY), manifest(3, now - DAY, { rawSize: 1000, entries: 1 })];
  const plan = planPrune('db', list, { last: 1 }, now, 0.5);
  assert.match(plan.held ?? '', /is less than 50% of the one before .* pruning is held until someone checks the volume/);
  assert.equal(plan.drop.length, 0);
  assert.equal(plan.keep.length, 3);
});

test('retention text and flags are checked with clear messages', () => {
  assert.deepEqual(parseRetention('last=3, max-age=90d'), { last: 3, maxAgeMs: 90 * DAY });
  assert.throws(() => parseRetention('hourly=3'), /use last=, daily=, weekly=, monthly= or max-age=/);
  assert.throws(() => parseRetention('last=x'), /last must be a whole number/);
  assert.throws(() => parseCommand('volume backup v1 --compress lz4'), /invalid argument "lz4" for "--compress" flag: use zstd, gzip or none/);
  assert.throws(() => parseCommand('volume backup ../etc'), /includes invalid characters for a local volume name/);
  assert.throws(() => parseCommand('volume restore v1'), /requires --from BACKUP/);
  assert.throws(() => parseCommand('backup rm latest'), /takes backup IDs, not "latest"/);
  assert.throws(() => parseCommand('backup prune --max-age soon'), /invalid argument "soon" for "--max-age" flag/);
  const p = parseCommand('backup prune db --dry-run --keep-daily 7 --max-age 720h');
  assert.equal(p.type, 'spec');
  assert.deepEqual(p.type === 'spec' && p.spec, { kind: 'backup.prune', volumes: ['db'], dryRun: true, keep: { daily: 7, maxAgeMs: 720 * 3_600_000 } });
  assert.equal(p.type === 'spec' && p.command.destructive, true);
});
