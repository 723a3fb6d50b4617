import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pipeline as chain, Readable, Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { BufferRelease, ReleasingStream } from '../ops/memory.js';
import { DirectFileStream } from '../ops/durable.js';

/** A file a job made or a person uploaded (save -o, export -o, load -i, …). */
export const Artifact = z.object({
  id: z.string().regex(/^[0-9a-f]{24}$/),
  name: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string(),
  jobId: z.string().optional(),
});
export type Artifact = z.infer<typeof Artifact>;

/** The description of an artifact, beside its file in the artifact's directory. */
const META = 'meta.json';

/** How a command names an artifact in its text: `load -i artifact:3f…`. */
export const ARTIFACT_REF = /^artifact:([0-9a-f]{24})$/;

/**
 * A file name as given, made safe: its last path segment only, a conservative character set,
 * no dot-files. Artifacts never name a path on the server.
 */
export function safeArtifactName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(base)) {
    throw new UsageError(`invalid file name "${name}": use letters, digits, ".", "_", "+" and "-" (up to 128), no path`, 1);
  }
  // The artifact's description lives beside its file under this name: a file of that name would replace it.
  if (base.toLowerCase() === META) throw new UsageError(`invalid file name "${name}": "${META}" is reserved, choose another name`, 1);
  return base;
}

export class ArtifactTooLarge extends Error {}

/**
 * A body handed over a socket read at a time, as views of a buffer the feed reuses (docker/raw-get.ts
 * RawBody): each call's views must be used before it returns; readInto resolves when the body has
 * ended. `destroy` lets go of it (the store calls it however the write ends, as a pipeline would).
 */
export interface Feed {
  readInto(consume: (views: Buffer[]) => void | Promise<void>): Promise<void>;
  destroy(): void;
}

const isFeed = (s: Readable | Feed): s is Feed => typeof (s as Partial<Feed>).readInto === 'function';

/**
 * Artifacts on local disk (one directory each). A file becomes visible only once complete: it is
 * written under a temporary name and its meta.json (size, sha256) is written last.
 */
export class ArtifactStore {
  constructor(readonly root: string, readonly maxBytes: number) {}

  private dir(id: string) {
    if (!/^[0-9a-f]{24}$/.test(id)) throw new UsageError(`invalid artifact id "${id}"`, 1);
    return path.join(this.root, id);
  }

  /** Streams `source` into a new artifact, hashing and counting on the way. */
  async write(name: string, source: Readable | Feed, jobId?: string, onStart?: (a: { id: string; name: string }) => void): Promise<Artifact> {
    try {
      return await this.writeFrom(name, source, jobId, onStart);
    } finally {
      // A feed the write failed before taking leaves no connection behind.
      if (isFeed(source)) source.destroy();
    }
  }

  private async writeFrom(name: string, source: Readable | Feed, jobId?: string, onStart?: (a: { id: string; name: string }) => void): Promise<Artifact> {
    const safe = safeArtifactName(name);
    const id = randomBytes(12).toString('hex');
    const dir = this.dir(id);
    await mkdir(dir, { recursive: true });
    // Its id is known before it is complete: a reader can follow it as it is written (follow()).
    onStart?.({ id, name: safe });
    const hash = createHash('sha256');
    let size = 0;
    const max = this.maxBytes;
    const release = new BufferRelease();
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > max) return cb(new ArtifactTooLarge(`artifact is over ${max} bytes (DOCKOPS_ARTIFACT_MAX_BYTES)`));
        hash.update(chunk);
        release.add(chunk.length);
        cb(null, chunk);
      },
    });
    const partial = path.join(dir, `.partial-${safe}`);
    try {
      if (isFeed(source)) {
        // Views of a buffer the feed reuses: counted, hashed and written where they lie.
        const file = new DirectFileStream(partial);
        try {
          await file.opened;
          await source.readInto((views) => {
            for (const v of views) size += v.length;
            if (size > max) throw new ArtifactTooLarge(`artifact is over ${max} bytes (DOCKOPS_ARTIFACT_MAX_BYTES)`);
            for (const v of views) hash.update(v);
            file.writeNow(views);
          });
          file.end();
          await finished(file);
        } catch (err) {
          file.destroy();
          throw err;
        }
      } else {
        // Each chunk written at once (ops/durable.ts): dead as soon as it is written, no pool round trip.
        await pipeline(source, meter, new DirectFileStream(partial));
      }
      await rename(partial, path.join(dir, safe));
      const a: Artifact = { id, name: safe, size, sha256: hash.digest('hex'), createdAt: new Date().toISOString(), jobId };
      await writeFile(path.join(dir, META), JSON.stringify(a));
      return a;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The artifact's description, or undefined when there is none (or it is incomplete). */
  async stat(id: string): Promise<Artifact | undefined> {
    if (!/^[0-9a-f]{24}$/.test(id)) return undefined;
    try {
      return Artifact.parse(JSON.parse(await readFile(path.join(this.dir(id), META), 'utf8')));
    } catch {
      return undefined;
    }
  }

  /** The first `n` bytes of a complete artifact (fewer when it is shorter), to tell what it holds. */
  async head(id: string, n: number): Promise<Buffer> {
    const a = await this.stat(id);
    if (!a) throw new UsageError(`no artifact ${id} (upload it first, or it has expired)`, 1);
    const fh = await open(path.join(this.dir(id), a.name), 'r');
    try {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  /** A stream of a complete artifact; throws a usage error naming it when it does not exist. */
  async open(id: string): Promise<{ artifact: Artifact; stream: Readable }> {
    const a = await this.stat(id);
    if (!a) throw new UsageError(`no artifact ${id} (upload it first, or it has expired)`, 1);
    return { artifact: a, stream: released(createReadStream(path.join(this.dir(id), a.name), { highWaterMark: 256 << 10 })) };
  }

  /**
   * A stream of the artifact for a consumer that reads it once, front to back (load, import): a
   * complete artifact is read from disk; one still being uploaded is followed as it arrives.
   */
  async stream(id: string, signal?: AbortSignal): Promise<Readable> {
    if (await this.writing(id)) return this.follow(id, signal);
    return (await this.open(id)).stream;
  }

  /** True while an artifact is being written (its directory is there, its meta.json not yet). */
  async writing(id: string): Promise<boolean> {
    if (!/^[0-9a-f]{24}$/.test(id)) return false;
    if (await this.stat(id)) return false;
    return readdir(this.dir(id)).then(
      () => true,
      () => false,
    );
  }

  /**
   * The artifact's bytes as they are written, from the first on: the reader waits for more until
   * the write completes (then it ends at the final size) or fails (then it errors: the directory is
   * removed). A download can thus run beside the job that makes the file.
   */
  follow(id: string, signal?: AbortSignal): Readable {
    const dir = this.dir(id);
    const store = this;
    const gone = () => new Error(`artifact ${id} was not completed (the job failed or was cancelled)`);
    async function* chunks() {
      let fd: FileHandle | undefined;
      let pos = 0;
      try {
        for (;;) {
          if (signal?.aborted) return;
          if (!fd) {
            const done = await store.stat(id);
            const names = done ? [done.name] : await readdir(dir).catch(() => undefined);
            if (!names) throw gone();
            const file = done ? done.name : names.find((n) => n.startsWith('.partial-'));
            if (!file) {
              await new Promise((r) => setTimeout(r, 20));
              continue;
            }
            // Opened by descriptor: the rename on completion does not move what is being read.
            fd = await open(path.join(dir, file), 'r').catch(() => undefined);
            if (!fd) continue;
          }
          const buf = Buffer.allocUnsafe(128 << 10);
          const { bytesRead } = await fd.read(buf, 0, buf.length, pos);
          if (bytesRead > 0) {
            pos += bytesRead;
            yield buf.subarray(0, bytesRead);
            continue;
          }
          const done = await store.stat(id);
          if (done) {
            if (pos >= done.size) return;
            continue;
          }
          if (!(await readdir(dir).then(() => true, () => false))) throw gone();
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await fd?.close();
      }
    }
    return released(Readable.from(chunks(), { objectMode: false }));
  }
}

/** The stream with its dead buffers freed as it goes (ops/memory.ts); errors pass through. */
function released(source: Readable): Readable {
  return chain(source, new ReleasingStream(), () => undefined);
}
