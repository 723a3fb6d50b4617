import { readFileSync } from 'node:fs';
import { Duplex, PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Decrypter, Encrypter } from 'age-encryption';
import { DockerError } from '../errors.js';
import type { Manifest } from './target.js';

/** The ending added to an encrypted archive's name: `age -d -i key.txt ID.tar.zst.age | tar -I zstd -t`. */
export const AGE_EXTENSION = '.age';

/** typage is loaded when first needed: it costs ~200 ms of start-up, and most processes never encrypt. */
const typage = () => import('age-encryption');

/** bech32's alphabet: recipients and identities are checked for shape at start-up, their checksum at first use. */
const RECIPIENT = /^age1(pq1)?[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58,}$/;
const IDENTITY = /^AGE-SECRET-KEY-(PQ-)?1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58,}$/;

/**
 * Runs an age stream (typage: web streams, 64 KiB chunks, so memory stays bounded whatever the
 * size) as a Node Duplex. `start` gets the plaintext or ciphertext as a web stream and returns the
 * other side once the header is written or read.
 */
function webStage(start: (input: ReadableStream<Uint8Array>) => Promise<ReadableStream<Uint8Array>>, what: string): Duplex {
  const input = new PassThrough({ highWaterMark: 256 * 1024 });
  const output = new PassThrough({ highWaterMark: 256 * 1024 });
  const duplex = Duplex.from({ writable: input, readable: output });
  start(Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>)
    .then((web) => pipeline(Readable.fromWeb(web as unknown as WebReadableStream<Uint8Array>), output))
    .catch((err: Error) => duplex.destroy(new Error(`${what}: ${err.message}`)));
  return duplex;
}

/**
 * How a target encrypts what it stores: to age recipients (public keys, `age1…`), or with a
 * passphrase (scrypt). The passphrase is kept in a private field, so a logged or serialised
 * configuration never shows it.
 */
export class AgeEncryption {
  readonly recipients: readonly string[];
  readonly #passphrase: string | undefined;

  constructor(opts: { recipients?: string[]; passphrase?: string }) {
    this.recipients = opts.recipients ?? [];
    this.#passphrase = opts.passphrase;
    if (this.recipients.length && this.#passphrase !== undefined) throw new Error('age: a target encrypts to recipients or with a passphrase, not both');
    if (!this.recipients.length && this.#passphrase === undefined) throw new Error('age: no recipient and no passphrase');
    for (const r of this.recipients) if (!RECIPIENT.test(r)) throw new Error(`age: "${r}" is not an age recipient (age1… as age-keygen -y prints it)`);
  }

  get mode(): 'recipients' | 'passphrase' {
    return this.#passphrase === undefined ? 'recipients' : 'passphrase';
  }

  private async encrypter(): Promise<Encrypter> {
    const e = new (await typage()).Encrypter();
    if (this.#passphrase !== undefined) e.setPassphrase(this.#passphrase);
    for (const r of this.recipients) {
      try {
        e.addRecipient(r);
      } catch (err) {
        throw new Error(`age: "${r}" is not an age recipient (${(err as Error).message})`);
      }
    }
    return e;
  }

  /** A stream stage that encrypts (the age format, readable by `age -d`). */
  encryptor(): Duplex {
    return webStage(async (input) => (await this.encrypter()).encrypt(input), 'age encryption');
  }

  toJSON() {
    return { mode: this.mode, recipients: this.recipients };
  }
}

/**
 * What this process can decrypt with: the identities of DOCKOPS_BACKUP_AGE_IDENTITY_FILE and the
 * passphrase of DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE. Both are kept in private fields.
 */
export class AgeKeys {
  readonly #identities: string[];
  readonly #passphrase: string | undefined;

  constructor(opts: { identities?: string[]; passphrase?: string } = {}) {
    this.#identities = opts.identities ?? [];
    this.#passphrase = opts.passphrase;
    this.#identities.forEach((id, i) => {
      // The key itself is never part of a message.
      if (!IDENTITY.test(id)) throw new Error(`age: identity ${i + 1} is not an AGE-SECRET-KEY-1… secret key`);
    });
  }

  get empty(): boolean {
    return !this.#identities.length && this.#passphrase === undefined;
  }

  private async decrypter(): Promise<Decrypter> {
    const d = new (await typage()).Decrypter();
    this.#identities.forEach((id, i) => {
      try {
        d.addIdentity(id);
      } catch {
        throw new Error(`identity ${i + 1} of DOCKOPS_BACKUP_AGE_IDENTITY_FILE is not a valid age secret key`);
      }
    });
    if (this.#passphrase !== undefined) d.addPassphrase(this.#passphrase);
    return d;
  }

  /** A stream stage that decrypts an archive stored with age. */
  decryptor(m: Pick<Manifest, 'id' | 'ageRecipients'>): Duplex {
    if (this.empty) {
      const to = m.ageRecipients?.length ? ` (to ${m.ageRecipients.join(', ')})` : ' (with a passphrase)';
      throw new DockerError(
        `backup ${m.id} is encrypted with age${to}: this worker has no key to open it; set DOCKOPS_BACKUP_AGE_IDENTITY_FILE (or DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE) on the worker`,
        1,
      );
    }
 return webStage(async (input) => (await this.decrypter()).decrypt(input), `backup ${m.id} cannot be decrypted (DOCKOPS_BACKUP_AGE_IDENTITY_FILE, DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE)`);
  }

  toJSON() {
    return { identities: this.#identities.length, passphrase: this.#passphrase !== undefined };
  }
}

/** The decryption stage of an age-encrypted archive; it throws, saying what to set, without a key. */
export function decryptor(m: Pick<Manifest, 'id' | 'encryption' | 'ageRecipients'>, keys: AgeKeys | undefined): Duplex {
  return (keys ?? new AgeKeys()).decryptor(m);
}

/** The decryption stages a manifest needs, as a list: none for a plain archive. */
export function decryptStages(m: Pick<Manifest, 'id' | 'encryption' | 'ageRecipients'>, keys: AgeKeys | undefined): Duplex[] {
  return m.encryption === 'age' ? [decryptor(m, keys)] : [];
}

/** The encryption stages of a target, as a list: none when it does not encrypt. */
export function encryptStages(age: AgeEncryption | undefined): Duplex[] {
  return age ? [age.encryptor()] : [];
}

/** An age identity file, as `age -i` reads it: one `AGE-SECRET-KEY-1…` a line, `#` comments. */
export function readIdentityFile(file: string): string[] {
  const keys: string[] = [];
  readFileSync(file, 'utf8').split(/\r?\n/).forEach((raw, i) => {
    const l = raw.trim();
    if (!l || l.startsWith('#')) return;
    if (!IDENTITY.test(l)) throw new Error(`${file}:${i + 1} is not an AGE-SECRET-KEY-1… identity (plugins and SSH keys are not supported)`);
    keys.push(l);
  });
  if (!keys.length) throw new Error(`${file} holds no identity (age-keygen -o ${file} makes one)`);
  return keys;
}

/** A passphrase file: its first line (a trailing newline is not part of it). */
export function readPassphraseFile(file: string): string {
  const p = readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '';
  if (!p) throw new Error(`${file} is empty`);
  return p;
}
