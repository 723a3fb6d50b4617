import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import tar from 'tar-stream';
import { harness } from '../support/harness.js';
import { docker, redis, uniqueName } from '../support/env.js';
import { startS3rver, type S3rver } from '../support/s3.js';
import { fillVolume, volumeFacts } from '../support/volume-fixture.js';
import { compareFacts } from '../../src/backup/check.js';
import { AgeKeys, readIdentityFile } from '../../src/backup/age.js';
import { parseTargets, type BackupTarget, type Manifest } from '../../src/backup/target.js';
import { cancelChannel } from '../../src/jobs/queue.js';
import { withVolumeContainer, writeVolume } from '../../src/backup/volumes.js';

/**
 * Backups to S3-compatible storage (a real s3rver on 127.0.0.1, credentials from the AWS_* variables
 * as in production) and age encryption (keys made by Debian's age-keygen, archives opened by its
 * `age -d`), all through the command language: backup, ls, inspect, restore, verify, prune; an
 * upload that fails or is cancelled leaves nothing that looks like a backup.
 */
const BUCKET = 'dockops-test';
const work = mkdtempSync(path.join(os.tmpdir(), 'dockops-s3-'));
const d = docker();
const vol = uniqueName('s3vol');
const made: string[] = [vol];
let s3: S3rver;
let client: S3Client;
let h: Awaited<ReturnType<typeof harness>>;
let skew = 0;
let recipient: string;
let ageKeys: AgeKeys;
const keyFile = path.join(work, 'key.txt');

before(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  s3 = await startS3rver(path.join(work, 's3'), [BUCKET]);
  client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  // Keys made as a person makes them: Debian's age-keygen (scripts/stack.sh installs age).
  execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
  recipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
  writeFileSync(path.join(work, 'pass'), 'a passphrase nobody guesses\n');
  ageKeys = new AgeKeys({ identities: readIdentityFile(keyFile), passphrase: 'a passphrase nobody guesses' });
  // The targets as DOCKOPS_BACKUP_TARGETS names them.
  const targets = parseTargets(
    [
      `offsite=s3://${BUCKET}/plain?endpoint=${s3.endpoint}&region=us-east-1&path_style=true`,
      `sealed=s3://${BUCKET}/sealed?endpoint=${s3.endpoint}&region=us-east-1&path_style=true&age_recipient=${recipient}`,
      `vault=file://${path.join(work, 'vault')}?age_passphrase=true`,
    ].join(','),
    { agePassphrase: 'a passphrase nobody guesses' },
  );
  h = await harness({ extraTargets: targets, backupSettings: { ageKeys }, now: () => Date.now() + skew });
  await d.createVolume({ Name: vol });
  await fillVolume(d, vol, { smallFiles: 1_000, bigBytes: 20 << 20 });
});

after(async () => {
  for (const v of made) await d.getVolume(v).remove({ force: true }).catch(() => undefined);
  await h?.close();
  client?.destroy();
  await s3?.stop();
  rmSync(work, { recursive: true, force: true });
});

function target(name: string): BackupTarget {
  return h.backups.get(name);
}

async function objects(prefix: string): Promise<string[]> {
  const r = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (r.Contents ?? []).map((o) => o.Key!).sort();
}

async function getObject(key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

async function only(t: string, volume: string): Promise<Manifest> {
  const all = await target(t).manifests(volume);
  assert.equal(all.length, 1, `one backup of ${volume} in ${t}`);
  return all[0]!;
}

/** A volume holding one file of random (incompressible) bytes: its upload takes many parts. */
async function randomVolume(name: string, bytes: number) {
  await d.createVolume({ Name: name });
  const pack = tar.pack();
  void (async () => {
    const entry = pack.entry({ name: 'r/random.bin', size: bytes, mode: 0o644 });
    for (let left = bytes; left > 0; left -= 1 << 20) {
      if (!entry.write(randomBytes(Math.min(left, 1 << 20)))) await new Promise((r) => entry.once('drain', r));
    }
    entry.end();
    pack.finalize();
  })();
  await withVolumeContainer(d, [{ volume: name, at: 'r' }], 'test', (c) => writeVolume(c, pack, new AbortController().signal));
}

/** Waits until the server has taken the first part of an upload under the volume's name (the upload is under way). */
async function whenFirstPart(volume: string) {
  const part = new RegExp(`${volume}/\\S*x-id=UploadPart`);
  for (let i = 0; i < 3000 && !part.test(s3.log()); i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(s3.log(), part, 'a part was uploaded');
}

let plain: Manifest;

test('volume backup --to offsite streams a multipart upload to S3; the manifest object comes after the archive', async () => {
  const r = await h.run(`volume backup ${vol} --to offsite --compress none --tag s3`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  plain = await only('offsite', vol);
  assert.match(r.stdout, new RegExp(`^${plain.id}  ${vol}: ${plain.entries} entries, .* \\(none\\) in .* to offsite:${vol}/${plain.id}\\.tar\\n$`));
  assert.equal(plain.encryption, 'none');
  assert.ok(plain.size > 16 << 20, 'big enough for several 8 MiB parts');
  assert.match(s3.log(), new RegExp(`${vol}/${plain.id}\\.tar\\?uploads`), 'a multipart upload was used');
  assert.deepEqual(await objects(`plain/${vol}/`), [`plain/${vol}/${plain.id}.json`, `plain/${vol}/${plain.id}.tar`]);
  // The stored object is the manifest's bytes, and a plain tar.
  const body = await getObject(`plain/${vol}/${plain.id}.tar`);
  assert.equal(body.length, plain.size);
  assert.equal(createHash('sha256').update(body).digest('hex'), plain.sha256);
  const listing = execFileSync('tar', ['-t'], { input: body, encoding: 'utf8', maxBuffer: 64 << 20 }).trim().split('\n');
  assert.equal(listing.length, plain.entries);
});

test('backup ls shows it with TARGET offsite; backup inspect says where it is', async () => {
  const ls = await h.run(`backup ls ${vol}`);
  assert.equal(ls.result.exitCode, 0, ls.stderr);
  assert.match(ls.stdout, new RegExp(`^${plain.id}\\s+${vol}\\s+.* ago\\s+\\S+\\s+${plain.entries}\\s+none\\s+offsite\\s+no\\s+s3$`, 'm'));
  const ins = await h.run(`backup inspect ${plain.id}`);
  const [j] = JSON.parse(ins.stdout) as (Manifest & { Location: string; Target: string })[];
  assert.equal(j.Target, 'offsite');
  assert.equal(j.Location, `s3://${BUCKET}/plain/${vol}/${plain.id}.tar`);
});

test('volume restore --into NEW from S3 and backup verify compare every entry', async () => {
  const into = uniqueName('s3into');
  made.push(into);
  const r = await h.run(`volume restore ${vol} --from ${plain.id} --into ${into}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`restored ${plain.id} .* into new volume ${into}`));
  const want = await volumeFacts(d, vol);
  assert.deepEqual(compareFacts(want, await volumeFacts(d, into)), []);
  const v = await h.run(`backup verify ${plain.id}`);
  assert.equal(v.result.exitCode, 0, v.stderr);
  assert.equal(v.stdout, `${plain.id}  ${vol}: sha256 ok, ${plain.entries} entries restored and compared: all match\n`);
  const m = JSON.parse((await getObject(`plain/${vol}/${plain.id}.json`)).toString()) as Manifest;
  assert.ok(m.verifiedAt, 'the manifest object records the verification');
});

test('age: an encrypted backup is not a readable tar; restore and verify open it with the identity; `age -d` opens it without dockops', async () => {
  const r = await h.run(`volume backup ${vol} --to sealed`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  const m = await only('sealed', vol);
  assert.match(r.stdout, new RegExp(`\\(zstd\\+age\\) in .* to sealed:${vol}/${m.id}\\.tar\\.zst\\.age\\n$`));
  assert.equal(m.encryption, 'age');
  assert.deepEqual(m.ageRecipients, [recipient]);
  assert.equal(m.file, `${m.id}.tar.zst.age`);
  const ls = await h.run(`backup ls --format '{{.ID}} {{.Compression}} {{.Encryption}} {{.Target}}' ${vol}`);
  assert.match(ls.stdout, new RegExp(`^${m.id} zstd age sealed$`, 'm'));
  assert.match(ls.stdout, new RegExp(`^${plain.id} none none offsite$`, 'm'));
  const file = path.join(work, m.file);
  const stored = await getObject(`sealed/${vol}/${m.file}`);
  writeFileSync(file, stored);
  assert.equal(createHash('sha256').update(stored).digest('hex'), m.sha256, 'sha256 and size are of the stored (encrypted) bytes');
  assert.equal(stored.length, m.size);
  assert.match(stored.subarray(0, 22).toString(), /^age-encryption\.org\/v1\n/);
  const notTar = spawnSync('tar', ['-I', 'zstd', '-tf', file], { encoding: 'utf8' });
  assert.notEqual(notTar.status, 0, 'not a tar without the key');
  // What a person does with the archive and key.txt, without dockops.
  const opened = spawnSync('sh', ['-c', 'age -d -i "$1" "$2" | tar -I zstd -t', 'sh', keyFile, file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(opened.status, 0, opened.stderr);
  assert.equal(opened.stdout.trim().split('\n').length, m.entries);
  const into = uniqueName('s3age');
  made.push(into);
  const rr = await h.run(`volume restore ${vol} --from ${m.id} --into ${into}`);
  assert.equal(rr.result.exitCode, 0, rr.stderr);
  assert.deepEqual(compareFacts(await volumeFacts(d, vol), await volumeFacts(d, into)), []);
  const v = await h.run(`backup verify ${m.id}`);
  assert.equal(v.result.exitCode, 0, v.stderr);
  assert.match(v.stdout, /all match\n$/);
  // A worker without the key says what to set, and creates nothing.
  h.backups.settings.ageKeys = undefined;
  const lost = uniqueName('s3nokey');
  try {
    const no = await h.run(`volume restore ${vol} --from ${m.id} --into ${lost}`);
    assert.equal(no.result.exitCode, 1);
    assert.match(no.stderr, new RegExp(`backup ${m.id} is encrypted with age \\(to ${recipient}\\): this worker has no key to open it; set DOCKOPS_BACKUP_AGE_IDENTITY_FILE`));
    await assert.rejects(d.getVolume(lost).inspect(), 'no volume was left');
  } finally {
    h.backups.settings.ageKeys = ageKeys;
  }
});

test('age with a passphrase (DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE): backed up, verified and restored', async () => {
  const small = uniqueName('s3pass');
  made.push(small);
  await d.createVolume({ Name: small });
  await fillVolume(d, small, { smallFiles: 200 });
  const r = await h.run(`volume backup ${small} --to vault --compress gzip --verify`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  const m = await only('vault', small);
  assert.equal(m.encryption, 'age');
  assert.deepEqual(m.ageRecipients, []);
  assert.match(r.stdout, new RegExp(`\\(gzip\\+age\\) in .* to vault:${small}/${m.id}\\.tar\\.gz\\.age\\n${m.id}  verified: ${m.entries} entries match\\n$`));
  const stored = readFileSync(path.join(work, 'vault', small, m.file));
  assert.match(stored.toString('latin1', 0, 60), /^age-encryption\.org\/v1\n-> scrypt /);
  assert.notEqual(spawnSync('tar', ['-tz'], { input: stored }).status, 0);
  const into = uniqueName('s3passinto');
  made.push(into);
  const rr = await h.run(`volume restore ${small} --from latest --into ${into}`);
  assert.equal(rr.result.exitCode, 0, rr.stderr);
  assert.deepEqual(compareFacts(await volumeFacts(d, small), await volumeFacts(d, into)), []);
});

test('a missing bucket: the backup fails saying so, and nothing is listed', async () => {
  const [missing] = parseTargets(`nobucket=s3://no-such-bucket-here?endpoint=${s3.endpoint}&region=us-east-1&path_style=true`);
  h.backups.list.push(missing!);
  try {
    const r = await h.run(`volume backup ${vol} --to nobucket`);
    assert.equal(r.result.exitCode, 1);
    assert.match(r.stderr, /s3:\/\/no-such-bucket-here.*NoSuchBucket: The specified bucket does not exist/);
    const ls = await h.run(`backup ls ${vol}`);
    assert.equal(ls.result.exitCode, 1);
    assert.match(ls.stderr, /backup target nobucket \(s3:\/\/no-such-bucket-here\) cannot be read: .*NoSuchBucket/);
    assert.doesNotMatch(ls.stdout, /nobucket/);
  } finally {
    h.backups.list.pop();
  }
});

test('the server dies mid-upload: the backup fails, and once it is back no object or backup is there', async () => {
  const big = uniqueName('s3big');
  made.push(big);
  await randomVolume(big, 160 << 20);
  const job = await h.submit(`volume backup ${big} --to offsite --compress none`);
  await whenFirstPart(big);
  await s3.kill();
  const events = await h.jobs.queueEvents('local');
  const result = (await job.waitUntilFinished(events, 120_000)) as { exitCode: number; stderr: string };
  const { entries } = await h.jobs.logs(job.id as string, 0);
  const stderr = entries.filter((e) => e.s === 'stderr').map((e) => e.t).join('') + result.stderr;
  assert.equal(result.exitCode, 1);
  assert.match(stderr, new RegExp(`backup of volume ${big} failed: upload of s3://${BUCKET}/plain/${big}/\\S+\\.tar: .*ECONNREFUSED.*; nothing was kept`));
  await s3.restart();
  assert.deepEqual(await objects(`plain/${big}/`), [], 'no object: an unfinished multipart upload is never visible');
  const ls = await h.run(`backup ls ${big}`);
  assert.equal(ls.result.exitCode, 0, ls.stderr);
  assert.equal(ls.stdout.trim().split('\n').length, 1, 'only the header');
});

test('a cancelled upload is aborted on the server (AbortMultipartUpload) and leaves nothing', async () => {
  const big = uniqueName('s3cancel');
  made.push(big);
  await randomVolume(big, 160 << 20);
  const job = await h.submit(`volume backup ${big} --to offsite --compress none`);
  await whenFirstPart(big);
  const pub = redis();
  await pub.publish(cancelChannel(h.prefix), job.id as string);
  pub.disconnect();
  await assert.rejects(job.waitUntilFinished(await h.jobs.queueEvents('local'), 60_000), /cancelled/);
  // s3rver logs the call (it answers 405: it cannot abort; AWS and most servers do). Its log comes through a pipe.
  const aborted = new RegExp(`${big}/\\S+\\.tar\\?uploadId=\\w+&x-id=AbortMultipartUpload`);
  for (let i = 0; i < 100 && !aborted.test(s3.log()); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(s3.log(), aborted);
  assert.deepEqual(await objects(`plain/${big}/`), []);
});

test('backup prune on S3: keeps what the rules keep, removes manifest and archive objects, sweeps an orphan archive', async () => {
  const v = uniqueName('s3prune');
  made.push(v);
  await d.createVolume({ Name: v });
  await fillVolume(d, v, { smallFiles: 100 });
  for (let i = 0; i < 3; i++) {
    const r = await h.run(`volume backup ${v} --to offsite --compress none`);
    assert.equal(r.result.exitCode, 0, r.stderr);
  }
  const all = await target('offsite').manifests(v);
  assert.equal(all.length, 3);
  // An archive whose manifest was never written (a worker that died between the two).
  const orphan = `plain/${v}/20200101T000000Z-abcdef.tar`;
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: orphan, Body: 'not a backup' }));
  const dry = await h.run(`backup prune ${v} --dry-run --keep-last 1`);
  assert.equal(dry.result.exitCode, 0, dry.stderr);
  assert.equal((dry.stdout.match(/^would remove /gm) ?? []).length, 2);
  assert.equal((await objects(`plain/${v}/`)).length, 7, 'a dry run removes nothing');
  // An hour later (the sweep leaves writes younger than 15 minutes alone).
  skew = 3_600_000;
  try {
    const real = await h.run(`backup prune ${v} --keep-last 1`);
    assert.equal(real.result.exitCode, 0, real.stderr);
    assert.match(real.stdout, new RegExp(`^removed unfinished offsite:${v}/20200101T000000Z-abcdef\\.tar$`, 'm'));
    assert.match(real.stdout, new RegExp(`offsite:${v}: 1 kept \\(${all[2]!.id}: last`));
  } finally {
    skew = 0;
  }
  assert.deepEqual(await objects(`plain/${v}/`), [`plain/${v}/${all[2]!.id}.json`, `plain/${v}/${all[2]!.file}`]);
  const rm = await h.run(`backup rm ${all[2]!.id}`);
  assert.equal(rm.result.exitCode, 0, rm.stderr);
  assert.deepEqual(await objects(`plain/${v}/`), []);
  await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: orphan })).catch(() => undefined);
});
