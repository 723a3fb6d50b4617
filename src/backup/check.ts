import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { PassThrough, Writable } from 'node:stream';
import { Meter } from './meter.js';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { DockerError } from '../errors.js';
import { decompressStages } from './compress.js';
import { decryptStages, type AgeKeys } from './age.js';
import type { BackupTarget, Manifest } from './target.js';

/** Reads the whole archive and checks its size and sha256 against the manifest. */
export async function checkArchive(target: BackupTarget, m: Manifest, signal: AbortSignal): Promise<void> {
  let source: Readable;
  try {
    source = await target.read(`${m.volume}/${m.file}`);
  } catch (err) {
    throw new DockerError(`backup ${m.id}: its archive ${m.file} cannot be read from ${target.name} (${(err as Error).message})`, 1);
  }
  const meter = new Meter();
  await pipeline(source, meter, new Writable({ write: (_c, _e, cb) => cb() }), { signal });
  const size = meter.bytes;
  const sum = meter.digest();
  if (size !== m.size || sum !== m.sha256) {
    throw new DockerError(`backup ${m.id} is corrupt: its archive has ${size} bytes with sha256 ${sum}, its manifest says ${m.size} bytes with sha256 ${m.sha256}; nothing was changed`, 1);
  }
}

/** One entry of a tar as verify compares it. */
export interface EntryFacts {
  type: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  linkname: string;
  sha256?: string;
}

/** Every entry of a tar stream by path (without its top directory), with a sha256 of each file. */
export async function tarFacts(source: Readable, signal: AbortSignal): Promise<Map<string, EntryFacts>> {
  const facts = new Map<string, EntryFacts>();
  const extract = tar.extract();
  extract.on('entry', (h, stream, next) => {
    const name = h.name.replace(/^\.\//, '').replace(/\/+$/, '');
    const key = name.includes('/') ? name.slice(name.indexOf('/') + 1) : '.';
    const f: EntryFacts = { type: h.type ?? 'file', size: h.size ?? 0, mode: (h.mode ?? 0) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, linkname: h.linkname ?? '' };
    if (f.type === 'file' || f.type === 'contiguous-file') {
      const hash = createHash('sha256');
      stream.on('data', (d: Buffer) => hash.update(d));
      stream.on('end', () => {
        f.sha256 = hash.digest('hex');
        facts.set(key, f);
        next();
      });
    } else {
      facts.set(key, f);
      stream.on('end', next);
      stream.resume();
    }
  });
  await pipeline(source, extract, { signal });
  return facts;
}

/** The archive's entries: read, decompressed and hashed entry by entry. */
export async function archiveFacts(target: BackupTarget, m: Manifest, signal: AbortSignal, keys?: AgeKeys) {
  const decrypt = decryptStages(m, keys);
  const source = await target.read(`${m.volume}/${m.file}`);
  const plain = new PassThrough({ highWaterMark: 256 * 1024 });
  const decompress = pipeline([source, ...decrypt, ...decompressStages(m.compression), plain], { signal });
  const [facts] = await Promise.all([tarFacts(plain, signal), decompress]);
  return facts;
}

/** What differs between two sets of entries, for people (at most `max` lines). */
export function compareFacts(want: Map<string, EntryFacts>, got: Map<string, EntryFacts>, max = 20): string[] {
  const diffs: string[] = [];
  const say = (s: string) => {
    if (diffs.length < max) diffs.push(s);
    else if (diffs.length === max) diffs.push('…');
  };
  for (const [p, w] of want) {
    const g = got.get(p);
    if (!g) {
      say(`missing: ${p}`);
      continue;
    }
    for (const k of ['type', 'size', 'mode', 'uid', 'gid', 'linkname', 'sha256'] as const) {
      if (w[k] !== g[k]) say(`${p}: ${k} is ${String(g[k])}, the archive has ${String(w[k])}`);
    }
  }
  for (const p of got.keys()) if (!want.has(p)) say(`extra: ${p}`);
  return diffs;
}
