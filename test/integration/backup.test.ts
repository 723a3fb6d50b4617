import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, openSync, readSync, writeSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { harness } from '../support/harness.js';
import { docker, redis, uniqueName } from '../support/env.js';
import { cancelChannel } from '../../src/jobs/queue.js';
import { parseCommand } from '../../src/commands/index.js';
import { fillVolume, volumeFacts } from '../support/volume-fixture.js';
import { compareFacts } from '../../src/backup/check.js';
import { LocalTarget, type Manifest } from '../../src/backup/target.js';
import { HELPER_LABEL } from '../../src/backup/volumes.js';

/**
 * Volume backups on the real engine: a volume of 10,000 small files, a deep tree, symlinks, hard
 * links, unicode and space names, empty files and directories, modes and owners; backed up, listed,
 * opened with plain `tar`, restored beside and over the original, verified, and corrupted.
 */
let h: Awaited<ReturnType<typeof harness>>;
const d = docker();
const vol = uniqueName('bkvol');
const made: string[] = [vol];
const containers: string[] = [];
const brokenDir = path.join('/tmp', `${uniqueName('notadir')}`);

before(async () => {
  writeFileSync(brokenDir, 'a file where the target wants a directory\n');
  h = await harness();
  await h.jobs.queueEvents('local');
  await d.createVolume({ Name: vol });
  await fillVolume(d, vol, { smallFiles: 10_000 });
});

after(async () => {
  for (const c of containers) await d.getContainer(c).remove({ force: true }).catch(() => undefined);
  for (const v of made) await d.getVolume(v).remove({ force: true }).catch(() => undefined);
  await h.close();
  execFileSync('rm', ['-f', brokenDir]);
});

function manifests(volume: string): Manifest[] {
  const dir = path.join(h.backupDir, volume);
  return readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as Manifest);
}

/** A container that stops at once on SIGTERM (a bare `sleep` as PID 1 ignores it for 10 s). */
const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];

async function leftoverHelpers(): Promise<number> {
  return (await d.listContainers({ all: true, filters: { label: [HELPER_LABEL] } })).length;
}

let first: Manifest;

test('volume backup streams the volume into a plain tar.zst with a manifest written last', async () => {
  const r = await h.run(`volume backup ${vol} --tag first`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  const [m] = manifests(vol);
  assert.ok(m, 'a manifest');
  first = m;
  assert.match(r.stdout, new RegExp(`^${m.id}  ${vol}: ${m.entries} entries, .* \\(zstd\\) in .* to local:${vol}/${m.id}\\.tar\\.zst\\n$`));
  assert.equal(m.volume, vol);
  assert.equal(m.host, 'local');
  assert.equal(m.compression, 'zstd');
  assert.equal(m.tag, 'first');
  // Root, many/, 100 dirs, 10,000 files, deep/ + 40 levels + bottom, links/ + 3, hard/ + 2, names dir + 2,
  // empty file, empty dir, private/ + secret, www-data.txt, run.sh, sticky-setgid.
  const expected = 1 + 1 + 100 + 10_000 + 1 + 40 + 1 + 4 + 3 + 3 + 1 + 1 + 2 + 1 + 1 + 1;
  assert.equal(m.entries, expected);
  const file = path.join(h.backupDir, vol, m.file);
  assert.equal(statSync(file).size, m.size);
  assert.equal(execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0], m.sha256);
  // A person can open it with tar alone.
  const listing = execFileSync('tar', ['-I', 'zstd', '-tf', file], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim().split('\n');
  assert.equal(listing.length, expected);
  assert.ok(listing.includes(`${vol}/名前 with spaces/ünïcødé ☃ file.txt`));
  assert.ok(readdirSync(path.join(h.backupDir, vol)).every((n) => !n.startsWith('.partial-')), 'no partial file left');
  assert.equal(await leftoverHelpers(), 0, 'no helper container left');
});

test('backup ls and backup inspect show the manifest', async () => {
  const ls = await h.run(`backup ls ${vol}`);
  assert.equal(ls.result.exitCode, 0);
  const [header, row] = ls.stdout.trim().split('\n');
  assert.match(header, /^BACKUP ID\s+VOLUME\s+CREATED\s+SIZE\s+ENTRIES\s+COMPRESSION\s+TARGET\s+VERIFIED\s+TAG$/);
  assert.match(row, new RegExp(`^${first.id}\\s+${vol}\\s+.* ago\\s+\\S+\\s+${first.entries}\\s+zstd\\s+local\\s+no\\s+first$`));
  const q = await h.run(`backup ls -q ${vol}`);
  assert.equal(q.stdout, `${first.id}\n`);
  const ins = await h.run(`backup inspect ${first.id}`);
  const [j] = JSON.parse(ins.stdout) as (Manifest & { Location: string })[];
  assert.equal(j.sha256, first.sha256);
  assert.equal(j.Location, path.join(h.backupDir, vol, first.file));
  const f = await h.run(`backup inspect -f '{{.volume}} {{.entries}}' ${first.id}`);
  assert.equal(f.stdout, `${vol} ${first.entries}\n`);
  assert.throws(() => parseCommand('backup inspect nonsense'), /"nonsense" is not a backup ID \(they look like 20261201T031500Z-3fa2c1; see backup ls\)/);
});

test('volume restore --into NEW restores every entry: path, type, size, mode, owner, link target, contents', async () => {
  const into = uniqueName('bkinto');
  made.push(into);
  const r = await h.run(`volume restore ${vol} --from ${first.id} --into ${into}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`restored ${first.id} .* into new volume ${into}`));
  const want = await volumeFacts(d, vol);
  const got = await volumeFacts(d, into);
  assert.equal(got.size, first.entries);
  assert.deepEqual(compareFacts(want, got), []);
  // Spot checks a person would make.
  assert.equal(got.get('hard/second name')?.type, 'link');
  assert.equal(got.get('links/dangling')?.linkname, 'nowhere/at/all');
  assert.equal(got.get('private/secret')?.uid, 1000);
  assert.equal(got.get('private/secret')?.mode, 0o600);
  assert.equal(got.get('sticky-setgid')?.mode, 0o2755);
  const again = await h.run(`volume restore ${vol} --from ${first.id} --into ${into}`);
  assert.equal(again.result.exitCode, 1);
  assert.match(again.stderr, new RegExp(`volume ${into} is not empty: restore beside it with --into NEW, or add --force`));
});

test('backup verify restores into a scratch volume, compares every entry, removes it and records the time', async () => {
  const before = (await d.listVolumes()).Volumes.length;
  const r = await h.run(`backup verify ${first.id}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  assert.equal(r.stdout, `${first.id}  ${vol}: sha256 ok, ${first.entries} entries restored and compared: all match\n`);
  assert.equal((await d.listVolumes()).Volumes.length, before, 'scratch volume removed');
  const [m] = manifests(vol);
  assert.ok(m.verifiedAt);
  const ls = await h.run(`backup ls ${vol}`);
  assert.match(ls.stdout, /ago\s+first\n$/);
});

test('volume restore over the volume: refused without --force; with it, a safety backup first, users stopped and started', async () => {
  const user = uniqueName('bkuser');
  containers.push(user);
  const c = await d.createContainer({ name: user, Image: 'busybox:latest', Cmd: SLEEPER, HostConfig: { Binds: [`${vol}:/data`] } });
  await c.start();
  // Change the volume so the restore has something to undo.
  const ex = await c.exec({ Cmd: ['sh', '-c', 'rm -rf /data/many && echo changed > /data/new-file'], AttachStdout: true, AttachStderr: true });
  const s = await ex.start({});
  await new Promise((res) => { s.on('end', res); s.resume(); });
  const refused = await h.run(`volume restore ${vol} --from ${first.id}`);
  assert.equal(refused.result.exitCode, 1);
  assert.match(refused.stderr, new RegExp(`volume ${vol} is not empty: .* add --force to replace its content \\(its current content is backed up first\\)`));
  const r = await h.run(`volume restore ${vol} --from ${first.id} --force`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`its previous content is backup (\\S+)\\nstopped and started again: ${user}\\n`));
  const safetyId = /previous content is backup (\S+)/.exec(r.stdout)![1];
  const safety = manifests(vol).find((m) => m.id === safetyId)!;
  assert.equal(safety.tag, `before-restore-${first.id}`);
  assert.equal(safety.entries, first.entries - (1 + 100 + 10_000) + 1, 'the safety backup holds the changed content (many/ gone, new-file there)');
  assert.equal((await c.inspect()).State.Running, true, 'the user is running again');
  const got = await volumeFacts(d, vol);
  assert.equal(got.has('new-file'), false);
  assert.equal(got.size, first.entries);
  assert.equal(await leftoverHelpers(), 0);
  const scratch = ((await d.listVolumes({ filters: { label: ['dockops.scratch'] } })) as { Volumes?: unknown[] }).Volumes ?? [];
  assert.equal(scratch.length, 0, 'no scratch volume left');
});

test('a corrupt archive fails verify and restore before anything is touched', async () => {
  const copy = uniqueName('bkcorrupt');
  made.push(copy);
  const file = path.join(h.backupDir, vol, first.file);
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, 4096);
  b[0] ^= 0xff;
  writeSync(fd, b, 0, 1, 4096);
  closeSync(fd);
  try {
    const v = await h.run(`backup verify ${first.id}`);
    assert.equal(v.result.exitCode, 1);
    assert.match(v.stderr, new RegExp(`backup ${first.id} is corrupt: its archive has ${first.size} bytes with sha256 [0-9a-f]{64}, its manifest says ${first.size} bytes with sha256 ${first.sha256}; nothing was changed`));
    const r = await h.run(`volume restore ${vol} --from ${first.id} --into ${copy}`);
    assert.equal(r.result.exitCode, 1);
    assert.match(r.stderr, /is corrupt/);
    await assert.rejects(d.getVolume(copy).inspect(), 'no volume was created');
  } finally {
    const fd2 = openSync(file, 'r+');
    b[0] ^= 0xff;
    writeSync(fd2, b, 0, 1, 4096);
    closeSync(fd2);
  }
});

test('--stop stops the users for the archive step and starts them again even when the backup fails', async () => {
  const user = uniqueName('bkstop');
  containers.push(user);
  const c = await d.createContainer({ name: user, Image: 'busybox:latest', Cmd: SLEEPER, HostConfig: { Binds: [`${vol}:/data`] } });
  await c.start();
  h.backups.list.push(new LocalTarget('broken', `${brokenDir}/inside`));
  const r = await h.run(`volume backup ${vol} --stop --to broken`);
  h.backups.list.pop();
  assert.equal(r.result.exitCode, 1);
  assert.match(r.stderr, new RegExp(`stopping ${user} for the archive step[\\s\\S]*started ${user} again`));
  // The failure came before the archive streamed: no compressor was left running (a zstd child
  // made before the target refused kept this process alive).
  assert.equal(spawnSync('pgrep', ['-P', String(process.pid), '-x', 'zstd']).stdout.toString().trim(), '', 'no zstd process left');
  assert.equal((await c.inspect()).State.Running, true);
  const ok = await h.run(`volume backup ${vol} --stop --compress gzip`);
  assert.equal(ok.result.exitCode, 0, ok.stderr);
  const m = manifests(vol).find((x) => x.compression === 'gzip')!;
  assert.ok(m.stopped.includes(user), 'the manifest names the stopped container');
  assert.equal((await c.inspect()).State.Running, true);
  const listing = execFileSync('tar', ['-tzf', path.join(h.backupDir, vol, m.file)], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim().split('\n');
  assert.equal(listing.length, m.entries);
});

test('pre and post labels run commands in the container around the backup (a dump lands in the archive)', async () => {
  const v = uniqueName('bkhook');
  made.push(v);
  await d.createVolume({ Name: v });
  const user = uniqueName('bkhookc');
  containers.push(user);
  const c = await d.createContainer({
    name: user,
    Image: 'busybox:latest',
    Cmd: SLEEPER,
    Labels: { 'dockops.backup.pre': "sh -c 'echo dumped > /data/dump.sql'", 'dockops.backup.post': 'rm /data/dump.sql' },
    HostConfig: { Binds: [`${v}:/data`] },
  });
  await c.start();
  const r = await h.run(`volume backup --volumes-from ${user} --compress none`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  const [m] = manifests(v);
  assert.equal(m.container, user);
  const listing = execFileSync('tar', ['-tf', path.join(h.backupDir, v, m.file)], { encoding: 'utf8' });
  assert.match(listing, new RegExp(`^${v}/dump.sql$`, 'm'));
  assert.equal((await volumeFacts(d, v)).has('dump.sql'), false, 'the post command ran');
  const bad = await h.run('volume backup --volumes-from no-such-container-here');
  assert.equal(bad.result.exitCode, 1);
  assert.match(bad.stderr, /No such container: no-such-container-here/);
});

test('a cancelled backup leaves no valid-looking backup and no partial file', async () => {
  const v = uniqueName('bkcancel');
  made.push(v);
  await d.createVolume({ Name: v });
  await fillVolume(d, v, { smallFiles: 100, bigBytes: 256 << 20 });
  const job = await h.submit(`volume backup ${v} --compress gzip --level 9`);
  // Cancel once the archive is under way.
  for (let i = 0; i < 200; i++) {
    const p = (await h.jobs.get(job.id as string))?.progress as { bytes?: number } | undefined;
    if (p && (p.bytes ?? 0) > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const pub = redis();
  await pub.publish(cancelChannel(h.prefix), job.id as string);
  pub.disconnect();
  const events = await h.jobs.queueEvents('local');
  await assert.rejects(job.waitUntilFinished(events, 60_000), /cancelled/);
  const dir = path.join(h.backupDir, v);
  const left = (() => { try { return readdirSync(dir); } catch { return []; } })();
  assert.deepEqual(left, [], 'no archive, no manifest, no partial');
  assert.equal(await leftoverHelpers(), 0);
});

test('backup prune: --dry-run shows, prune removes files, and a shrunken newest backup holds it with an alert', async () => {
  const v = uniqueName('bkprune');
  made.push(v);
  await d.createVolume({ Name: v });
  await fillVolume(d, v, { smallFiles: 200 });
  for (let i = 0; i < 3; i++) {
    const r = await h.run(`volume backup ${v} --compress none`);
    assert.equal(r.result.exitCode, 0, `${r.failed} ${r.stderr}`);
  }
  const all = manifests(v).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  assert.equal(all.length, 3);
  const dry = await h.run(`backup prune ${v} --dry-run --keep-last 1`);
  assert.equal(dry.result.exitCode, 0, dry.stderr);
  assert.equal((dry.stdout.match(/^would remove /gm) ?? []).length, 2);
  assert.equal(manifests(v).length, 3, 'dry run removes nothing');
  const real = await h.run(`backup prune ${v} --keep-last 1`);
  assert.equal(real.result.exitCode, 0, real.stderr);
  assert.match(real.stdout, new RegExp(`local:${v}: 1 kept \\(${all[2].id}: last\\+newest \\(none verified\\)\\)`));
  assert.deepEqual(readdirSync(path.join(h.backupDir, v)).sort(), [all[2].file, `${all[2].id}.json`].sort());
  // The volume is emptied by mistake and backed up: pruning is held and says why.
  await d.getVolume(v).remove();
  await d.createVolume({ Name: v });
  assert.equal((await h.run(`volume backup ${v} --compress none`)).result.exitCode, 0);
  const held = await h.run(`backup prune ${v} --keep-last 1`);
  assert.equal(held.result.exitCode, 1);
  assert.match(held.stderr, /^ALERT: local: the newest backup of .* is less than 50% of the one before .* pruning is held until someone checks the volume\n$/);
  assert.equal(manifests(v).length, 2, 'nothing removed while held');
});

test('a 1 GiB file: backed up with zstd, verified entry by entry, restored with the same sha256', async () => {
  const v = uniqueName('bkbig');
  const into = uniqueName('bkbiginto');
  made.push(v, into);
  await d.createVolume({ Name: v });
  await fillVolume(d, v, { smallFiles: 10, bigBytes: 1024 ** 3 });
  const b = await h.run(`volume backup ${v} --verify`);
  assert.equal(b.result.exitCode, 0, b.stderr);
  const [m] = manifests(v);
  assert.ok(m.rawSize > 1024 ** 3, 'the tar holds the whole file');
  assert.ok(m.verifiedAt, 'verified');
  assert.match(b.stdout, new RegExp(`${m.id}  verified: ${m.entries} entries match`));
  const r = await h.run(`volume restore ${v} --from latest --into ${into}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  const want = (await volumeFacts(d, v)).get('big.bin');
  const got = (await volumeFacts(d, into)).get('big.bin');
  assert.equal(got?.size, 1024 ** 3);
  assert.equal(got?.sha256, want?.sha256);
});

test("--compress none to a local directory: the archive API's bytes as they came (written past the page cache where the filesystem takes it), size and sha256 as the manifest says, verified entry by entry", async () => {
  const v = uniqueName('bknone');
  made.push(v);
  await d.createVolume({ Name: v });
  // More than the writer's staging ring (12 MiB), ending off a 4 KiB block.
  await fillVolume(d, v, { smallFiles: 40, bigBytes: (30 << 20) + 12_345 });
  const b = await h.run(`volume backup ${v} --compress none --verify`);
  assert.equal(b.result.exitCode, 0, b.stderr);
  const [m] = manifests(v);
  const file = readFileSync(path.join(h.backupDir, v, m.file));
  assert.equal(file.length, m.size);
  assert.equal(m.size, m.rawSize, 'stored as read');
  assert.equal(createHash('sha256').update(file).digest('hex'), m.sha256);
  assert.ok(m.verifiedAt, 'verified');
  // The engine's archive of the same volume, read apart through dockerode: the same bytes.
  const c = await d.createContainer({ Image: 'busybox:latest', Cmd: ['true'], HostConfig: { Mounts: [{ Type: 'volume', Source: v, Target: `/${v}`, ReadOnly: true }] } });
  try {
    const chunks: Buffer[] = [];
    for await (const x of (await c.getArchive({ path: `/${v}` })) as unknown as AsyncIterable<Buffer>) chunks.push(x);
    assert.equal(createHash('sha256').update(Buffer.concat(chunks)).digest('hex'), m.sha256);
  } finally {
    await c.remove({ force: true });
  }
  assert.deepEqual(readdirSync(path.join(h.backupDir, v)).filter((f) => f.startsWith('.partial')), [], 'no partial left');
});
