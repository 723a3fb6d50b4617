import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { AgeEncryption, AgeKeys, decryptor, readIdentityFile } from '../../src/backup/age.js';
import { archiveId, LocalTarget, Manifest, parseTargets } from '../../src/backup/target.js';
import { S3Target } from '../../src/backup/s3.js';
import { ConfigError, loadConfig } from '../../src/config.js';

async function collect(d: NodeJS.ReadWriteStream, input: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from([input]), d, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
  return Buffer.concat(out);
}

test('DOCKOPS_BACKUP_TARGETS: file and s3 URLs with their options', async () => {
  const id = await generateX25519Identity();
  const rcpt = await identityToRecipient(id);
  const [local, offsite, plain] = parseTargets(
    `local=file:///var/backups?age_recipient=${rcpt},offsite=s3://my-bucket/dockops/prod/?endpoint=http://127.0.0.1:4569&region=us-east-1&path_style=true&age_recipient=${rcpt},aws=s3://other.bucket`,
  );
  assert.ok(local instanceof LocalTarget);
  assert.equal(local.dir, '/var/backups');
  assert.deepEqual(local.age?.recipients, [rcpt]);
  assert.ok(offsite instanceof S3Target);
  assert.deepEqual(offsite.opts, { bucket: 'my-bucket', prefix: 'dockops/prod/', endpoint: 'http://127.0.0.1:4569', region: 'us-east-1', forcePathStyle: true });
  assert.equal(offsite.where, 's3://my-bucket/dockops/prod');
  assert.ok(plain instanceof S3Target);
  assert.deepEqual(plain.opts, { bucket: 'other.bucket', prefix: '', endpoint: undefined, region: undefined, forcePathStyle: false });
  assert.equal(plain.where, 's3://other.bucket');
  assert.equal(plain.age, undefined);
  const bad: Array<[string, RegExp]> = [
    ['x=s3://AB', /"AB" is not an S3 bucket name/],
    ['x=s3://bucket?endpoint=127.0.0.1:9000', /endpoint "127.0.0.1:9000" is not http\(s\):\/\/HOST\[:PORT\]/],
    ['x=s3://bucket?endpoint=http://key:secret@127.0.0.1:9000', /the endpoint must not hold credentials \(use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\)/],
    ['x=s3://bucket?pathstyle=true', /unknown option "pathstyle" \(known: endpoint, region, path_style, age_recipient, age_passphrase\)/],
    ['x=s3://bucket?region=a&region=b', /"region" is given twice/],
    ['x=s3://bucket/../up', /not a usable key prefix/],
    ['x=file:///d?age_recipient=age1nope', /"age1nope" is not an age recipient/],
    ['x=file:///d?age_passphrase=true', /age_passphrase=true needs DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE/],
    ['x=ftp://host/dir', /is not a file:\/\/\/ or s3:\/\/ URL/],
  ];
  for (const [raw, re] of bad) assert.throws(() => parseTargets(raw), re, raw);
  assert.throws(() => parseTargets(`x=file:///d?age_passphrase=true&age_recipient=${rcpt}`, { agePassphrase: 'p' }), /recipients or with a passphrase, not both/);
  assert.equal(parseTargets('x=file:///d?age_passphrase=true', { agePassphrase: 'p' })[0]!.age?.mode, 'passphrase');
});

test('archive names: the ID of an encrypted archive, and old manifests parse with no encryption', () => {
  assert.equal(archiveId('20261201T031500Z-3fa2c1.tar.zst.age'), '20261201T031500Z-3fa2c1');
  assert.equal(archiveId('20261201T031500Z-3fa2c1.tar.gz'), '20261201T031500Z-3fa2c1');
  const old = Manifest.parse({
    id: '20261201T031500Z-3fa2c1', volume: 'db', host: 'local', createdAt: '2026-12-01T03:15:00.000Z', file: '20261201T031500Z-3fa2c1.tar.zst',
    size: 1, sha256: 'a'.repeat(64), rawSize: 1, entries: 1, compression: 'zstd', root: 'db', durationMs: 1, dockopsVersion: '0.1.0',
  });
  assert.equal(old.encryption, 'none');
});

test('age: a stream encrypted to a recipient opens with its identity only; a passphrase with the passphrase', async () => {
  const id = await generateX25519Identity();
  const rcpt = await identityToRecipient(id);
  const data = Buffer.alloc(300_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
  const sealed = await collect(new AgeEncryption({ recipients: [rcpt] }).encryptor(), data);
  assert.match(sealed.subarray(0, 22).toString(), /^age-encryption\.org\/v1\n/);
  assert.equal(sealed.includes(data.subarray(1000, 1100)), false, 'the plaintext is not in the ciphertext');
  assert.deepEqual(await collect(new AgeKeys({ identities: [id] }).decryptor({ id: 'b1' }), sealed), data);
  const other = await generateX25519Identity();
  await assert.rejects(collect(new AgeKeys({ identities: [other] }).decryptor({ id: 'b1' }), sealed), /backup b1 cannot be decrypted .*no identity matched/);
  assert.throws(() => decryptor({ id: 'b1', encryption: 'age', ageRecipients: [rcpt] }, undefined), new RegExp(`backup b1 is encrypted with age \\(to ${rcpt}\\): this worker has no key to open it; set DOCKOPS_BACKUP_AGE_IDENTITY_FILE`));
  const locked = await collect(new AgeEncryption({ passphrase: 'correct horse battery staple' }).encryptor(), data);
  assert.match(locked.toString('latin1', 0, 60), /-> scrypt /);
  assert.deepEqual(await collect(new AgeKeys({ passphrase: 'correct horse battery staple' }).decryptor({ id: 'b2' }), locked), data);
  // Secrets never show when the configuration is logged or serialised.
  const keys = new AgeKeys({ identities: [id], passphrase: 'correct horse battery staple' });
  assert.equal(JSON.stringify({ keys, enc: new AgeEncryption({ passphrase: 'correct horse battery staple' }) }).includes('horse'), false);
  assert.equal(JSON.stringify(keys).includes(id), false);
});

test('config: age identity and passphrase files are read at start-up, mistakes named without the key', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-age-'));
  try {
    const id = await generateX25519Identity();
    const rcpt = await identityToRecipient(id);
    writeFileSync(path.join(dir, 'key.txt'), `# created: today\n# public key: ${rcpt}\n${id}\n`);
    writeFileSync(path.join(dir, 'pass'), 'a long passphrase\n');
    writeFileSync(path.join(dir, 'bad.txt'), `# comment\nAGE-SECRET-KEY-1NOTAKEY\n`);
    assert.deepEqual(readIdentityFile(path.join(dir, 'key.txt')), [id]);
    const c = loadConfig({
      DOCKOPS_BACKUP_TARGETS: `local=file:///var/b?age_passphrase=true,offsite=s3://bkt?age_recipient=${rcpt}`,
      DOCKOPS_BACKUP_AGE_IDENTITY_FILE: path.join(dir, 'key.txt'),
      DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE: path.join(dir, 'pass'),
    });
    assert.equal(c.backups.targets[0]!.age?.mode, 'passphrase');
    assert.deepEqual(c.backups.targets[1]!.age?.recipients, [rcpt]);
    assert.equal(c.backups.settings.ageKeys?.empty, false);
    assert.equal(JSON.stringify(c.backups).includes('a long passphrase'), false);
    assert.throws(
      () => loadConfig({ DOCKOPS_BACKUP_AGE_IDENTITY_FILE: path.join(dir, 'bad.txt') }),
      (e: unknown) => e instanceof ConfigError && /DOCKOPS_BACKUP_AGE_IDENTITY_FILE: .*bad\.txt:2 is not an AGE-SECRET-KEY-1… identity/.test((e as Error).message) && !(e as Error).message.includes('NOTAKEY'),
    );
    assert.throws(() => loadConfig({ DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE: path.join(dir, 'missing') }), /DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
