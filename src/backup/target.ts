import { createReadStream } from 'node:fs';
import { DirectFileStream, syncDir, writeFileDurably } from '../ops/durable.js';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { z } from 'zod';
import { COMPRESSIONS } from './compress.js';
import { UsageError } from '../errors.js';
import type { Retention } from './retention.js';
import { AgeEncryption, type AgeKeys } from './age.js';
import { S3Target } from './s3.js';

/**
 * What makes a backup valid: written after the archive, so an archive without one is not a backup.
 * Everything a person (or `tar`) needs to use the archive without dockops.
 */
export const Manifest = z.object({
  id: z.string().regex(/^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$/),
  volume: z.string(),
  host: z.string(),
  /** When the archive step began (ISO 8601, UTC). */
  createdAt: z.string(),
  /** The archive's file name beside the manifest. */
  file: z.string(),
  /** Bytes of the archive as stored, and its sha256. */
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Bytes of the tar before compression, and its number of entries (files, directories, links). */
  rawSize: z.number().int().nonnegative(),
  entries: z.number().int().nonnegative(),
  compression: z.enum(COMPRESSIONS),
  /** `age`: the stored bytes are the compressed tar encrypted with age (`age -d` opens it). Absent in older manifests. */
  encryption: z.enum(['none', 'age']).default('none'),
  /** The age recipients (public keys) it was encrypted to; empty for a passphrase. */
  ageRecipients: z.array(z.string()).optional(),
  /** The top directory of the tar (the volume's name when it was made). */
  root: z.string(),
  /** The volume as it was, to create it again the same way. */
  driver: z.string().default('local'),
  labels: z.record(z.string(), z.string()).default({}),
  options: z.record(z.string(), z.string()).nullable().default(null),
  durationMs: z.number().int().nonnegative(),
  tag: z.string().optional(),
  /** The container whose volumes were backed up (`--volumes-from`). */
  container: z.string().optional(),
  /** Containers stopped for the archive step (and started again). */
  stopped: z.array(z.string()).default([]),
  jobId: z.string().optional(),
  dockopsVersion: z.string(),
  /** Set by `backup verify` when every entry matched. */
  verifiedAt: z.string().optional(),
});
export type Manifest = z.infer<typeof Manifest>;

/** An archive being written: it becomes visible under its name only on commit. */
export interface PendingObject {
  stream: Writable;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** Where backups go: a local directory, or S3-compatible storage. Keys are `<volume>/<file>`. */
export interface BackupTarget {
  readonly name: string;
  /** Where, for people: a path or URL. */
  readonly where: string;
  /** Set when what is stored there is encrypted with age. */
  readonly age?: AgeEncryption;
  create(key: string): Promise<PendingObject>;
  read(key: string): Promise<Readable>;
  putManifest(m: Manifest): Promise<void>;
  /** Every valid backup (manifest present and readable), oldest first. */
  manifests(volume?: string): Promise<Manifest[]>;
  /** Removes a backup: the manifest first (so it stops being valid), then the archive. */
  remove(m: Manifest): Promise<void>;
  /** Removes archives with no manifest and unfinished writes older than `olderThanMs`; returns their keys. */
  sweep(now: number, olderThanMs: number): Promise<string[]>;
}

const volumeDir = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function manifestKey(m: Pick<Manifest, 'volume' | 'id'>) {
  return `${m.volume}/${m.id}.json`;
}

/** The backup ID an archive's file name belongs to (`ID.tar.zst.age` → `ID`). */
export function archiveId(file: string): string {
  return file.replace(/\.tar(\.gz|\.zst)?(\.age)?$/, '');
}

/** Checks a key is `<volume>/<file>` with names that stay inside the target. */
export function checkKey(key: string): [string, string] {
  const [vol, base, ...rest] = key.split('/');
  if (rest.length || !vol || !base || !volumeDir.test(vol) || !/^[A-Za-z0-9._-]+$/.test(base) || base.startsWith('.')) {
    throw new Error(`invalid backup key "${key}"`);
  }
  return [vol, base];
}

/** Backups in a directory: `<dir>/<volume>/<id>.tar.zst` and `<id>.json` beside it. */
export class LocalTarget implements BackupTarget {
  readonly where: string;
  constructor(readonly name: string, readonly dir: string, readonly age?: AgeEncryption) {
    this.where = dir;
  }

  private file(key: string) {
    const [vol, base] = checkKey(key);
    return path.join(this.dir, vol, base);
  }

  async create(key: string): Promise<PendingObject> {
    const final = this.file(key);
    await mkdir(path.dirname(final), { recursive: true, mode: 0o700 });
    const partial = path.join(path.dirname(final), `.partial-${path.basename(final)}`);
    // On disk as it is written, and whole before the rename: a crash never leaves a renamed archive
    // (or, after it, a manifest) whose data had not reached the disk.
    const stream = new DirectFileStream(partial, { durable: true, directIo: true });
    return {
      stream,
      async commit() {
        if (!stream.writableFinished) await finished(stream);
        await rename(partial, final);
        await syncDir(path.dirname(final));
      },
      async abort() {
        stream.destroy();
        await rm(partial, { force: true });
      },
    };
  }

  async read(key: string): Promise<Readable> {
    const f = this.file(key);
    await stat(f);
    return createReadStream(f, { highWaterMark: 256 * 1024 });
  }

  async putManifest(m: Manifest) {
    const f = this.file(manifestKey(m));
    await writeFileDurably(f, `${JSON.stringify(m, null, 2)}\n`);
  }

  private async volumes(): Promise<string[]> {
    try {
      return (await readdir(this.dir, { withFileTypes: true })).filter((d) => d.isDirectory() && volumeDir.test(d.name)).map((d) => d.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async manifests(volume?: string): Promise<Manifest[]> {
    const out: Manifest[] = [];
    for (const vol of volume ? [volume] : await this.volumes()) {
      let names: string[];
      try {
        names = await readdir(path.join(this.dir, vol));
      } catch {
        continue;
      }
      for (const n of names.filter((x) => x.endsWith('.json') && !x.startsWith('.'))) {
        try {
          const m = Manifest.parse(JSON.parse(await readFile(path.join(this.dir, vol, n), 'utf8')));
          await stat(this.file(`${m.volume}/${m.file}`));
          out.push(m);
        } catch {
          // Unreadable or without its archive: not a backup.
        }
      }
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async remove(m: Manifest) {
    await rm(this.file(manifestKey(m)), { force: true });
    await rm(this.file(`${m.volume}/${m.file}`), { force: true });
  }

  async sweep(now: number, olderThanMs: number): Promise<string[]> {
    const removed: string[] = [];
    for (const vol of await this.volumes()) {
      const dir = path.join(this.dir, vol);
      const names = await readdir(dir).catch(() => [] as string[]);
      const ids = new Set(names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -5)));
      for (const n of names) {
        const orphan = !n.startsWith('.') && !n.endsWith('.json') && !ids.has(archiveId(n));
        if (!n.startsWith('.partial-') && !orphan) continue;
        const st = await stat(path.join(dir, n)).catch(() => undefined);
        if (!st || now - st.mtimeMs < olderThanMs) continue;
        await rm(path.join(dir, n), { force: true });
        removed.push(`${vol}/${n}`);
      }
    }
    return removed;
  }
}

/** Defaults of the backup verbs (DOCKOPS_BACKUP_*). */
export interface BackupSettings {
  compression: (typeof COMPRESSIONS)[number];
  level?: number;
  retention: Retention;
  /** Pruning is held when the newest backup is smaller than this share of the one before. */
  shrinkRatio: number;
  /** An image with `find`, used to empty a volume before a restore replaces its content. */
  restoreImage: string;
  /** What this process decrypts age-encrypted archives with (DOCKOPS_BACKUP_AGE_*_FILE). */
  ageKeys?: AgeKeys;
}

export const DEFAULT_BACKUP_SETTINGS: BackupSettings = {
  compression: 'zstd',
  retention: { last: 7, daily: 7, weekly: 4, monthly: 12 },
  shrinkRatio: 0.5,
  restoreImage: 'busybox:latest',
};

/** The configured targets by name; the first is the default. */
export class BackupTargets {
  constructor(readonly list: BackupTarget[], readonly settings: BackupSettings = DEFAULT_BACKUP_SETTINGS) {}
  get default(): BackupTarget {
    return this.list[0]!;
  }
  get(name?: string): BackupTarget {
    if (!name) return this.default;
    const t = this.list.find((x) => x.name === name);
    if (!t) throw new UsageError(`no backup target "${name}" (configured: ${this.list.map((x) => x.name).join(', ')}; DOCKOPS_BACKUP_TARGETS)`, 1);
    return t;
  }
}

/** Secrets the target URLs refer to (read from files at start-up, never in the URL). */
export interface TargetSecrets {
  /** DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE's passphrase, for targets with `age_passphrase=true`. */
  agePassphrase?: string;
}

/** The query of a target URL: known keys only, each once unless `many`. */
function readQuery(name: string, query: string, known: string[], many: string[] = []): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(query)) {
    if (!known.includes(k)) throw new Error(`target "${name}": unknown option "${k}" (known: ${known.join(', ')})`);
    const list = out.get(k) ?? [];
    if (list.length && !many.includes(k)) throw new Error(`target "${name}": "${k}" is given twice`);
    out.set(k, [...list, v]);
  }
  return out;
}

/** `age_recipient=age1…` (repeatable) or `age_passphrase=true` on a target URL. */
function ageOption(name: string, q: Map<string, string[]>, secrets: TargetSecrets): AgeEncryption | undefined {
  const recipients = q.get('age_recipient') ?? [];
  const pass = q.get('age_passphrase')?.[0];
  if (pass !== undefined && pass !== 'true' && pass !== 'false') throw new Error(`target "${name}": age_passphrase is true or false`);
  if (pass === 'true') {
    if (recipients.length) throw new Error(`target "${name}": age encrypts to recipients or with a passphrase, not both`);
    if (secrets.agePassphrase === undefined) throw new Error(`target "${name}": age_passphrase=true needs DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE`);
    return new AgeEncryption({ passphrase: secrets.agePassphrase });
  }
  if (!recipients.length) return undefined;
  try {
    return new AgeEncryption({ recipients });
  } catch (err) {
    throw new Error(`target "${name}": ${(err as Error).message}`);
  }
}

const AGE_KEYS = ['age_recipient', 'age_passphrase'];

/** `local=file:///var/lib/dockops/backups,offsite=s3://…`: the targets named in DOCKOPS_BACKUP_TARGETS. */
export function parseTargets(raw: string, secrets: TargetSecrets = {}): BackupTarget[] {
  const out: BackupTarget[] = [];
  for (const part of raw.split(',').map((x) => x.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq);
    const url = part.slice(eq + 1);
    if (eq <= 0 || !/^[a-z0-9][a-z0-9_-]{0,31}$/.test(name)) throw new Error(`"${part}" is not NAME=URL (for example local=file:///var/lib/dockops/backups)`);
    if (out.some((t) => t.name === name)) throw new Error(`target "${name}" is named twice`);
    const qm = url.indexOf('?');
    const [base, query] = qm < 0 ? [url, ''] : [url.slice(0, qm), url.slice(qm + 1)];
    if (base.startsWith('file:///')) {
      const q = readQuery(name, query, AGE_KEYS, ['age_recipient']);
      out.push(new LocalTarget(name, decodeURIComponent(base.slice('file://'.length)).replace(/\/+$/, '') || '/', ageOption(name, q, secrets)));
    } else if (base.startsWith('s3://')) {
      const q = readQuery(name, query, [...S3Target.OPTIONS, ...AGE_KEYS], ['age_recipient']);
      out.push(S3Target.fromUrl(name, base, q, ageOption(name, q, secrets)));
    } else throw new Error(`target "${name}": ${url} is not a file:/// or s3:// URL`);
  }
  if (!out.length) throw new Error('names no target');
  return out;
}
