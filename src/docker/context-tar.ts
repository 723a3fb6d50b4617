import { createRequire } from 'node:module';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { Ignore } from '@balena/dockerignore';

const require = createRequire(import.meta.url);
// A CommonJS factory (module.exports = fn) whose types claim a default export.
const dockerignore = require('@balena/dockerignore') as (opts?: { ignorecase?: boolean }) => Ignore;

/** The patterns of a context's .dockerignore (none when it has none), comments and blanks left out. */
export async function readDockerignore(dir: string): Promise<string[]> {
  try {
    return (await readFile(path.join(dir, '.dockerignore'), 'utf8'))
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
  } catch {
    return [];
  }
}

export interface ContextOptions {
  /** The Dockerfile's path inside the context (posix, relative): always sent, even when ignored. */
  dockerfile: string;
  /** Files that are not in the directory, added at the top (a Dockerfile from outside the context). */
  extra?: Array<{ name: string; content: Buffer }>;
}

/**
 * A build context as a tar stream, packed the way the docker CLI packs a directory: .dockerignore
 * honoured (its `!` exceptions too), the Dockerfile and .dockerignore always sent, owners set to
 * root. Beyond docker: `.git` is never sent, and symbolic links are sent as links, never followed,
 * so nothing outside the directory can get into the context. Sockets, FIFOs and devices are left
 * out. Entries are read one at a time, so a context of any size streams in little memory.
 */
export function packContext(dir: string, opts: ContextOptions): Readable {
  const pack = tar.pack();
  void (async () => {
    const patterns = await readDockerignore(dir);
    const ig = dockerignore({ ignorecase: false }).add(patterns);
    // With exceptions (`!keep/this`), an ignored directory is walked for what they let back in.
    const hasExceptions = patterns.some((p) => p.startsWith('!'));
    const keep = new Set([opts.dockerfile.split(path.sep).join('/').replace(/^\.\//, ''), '.dockerignore']);
    const add = (header: tar.Headers, body?: Buffer) =>
      new Promise<void>((resolve, reject) => pack.entry({ uid: 0, gid: 0, uname: '', gname: '', ...header }, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
    for (const x of opts.extra ?? []) await add({ name: x.name, type: 'file', mode: 0o644, size: x.content.length, mtime: new Date() }, x.content);
    const walk = async (rel: string): Promise<void> => {
      const names = (await readdir(path.join(dir, rel))).sort();
      for (const name of names) {
        const r = rel ? `${rel}/${name}` : name;
        if (r === '.git') continue;
        const abs = path.join(dir, r);
        const st = await lstat(abs);
        const ignored = !keep.has(r) && ig.ignores(r);
        const header = { name: r, mode: st.mode & 0o7777, mtime: st.mtime };
        if (st.isDirectory()) {
          if (!ignored) await add({ ...header, name: `${r}/`, type: 'directory' });
          if (!ignored || hasExceptions) await walk(r);
        } else if (ignored) {
          continue;
        } else if (st.isSymbolicLink()) {
          await add({ ...header, type: 'symlink', linkname: await readlink(abs) });
        } else if (st.isFile()) {
          await new Promise<void>((resolve, reject) => {
            const entry = pack.entry({ ...header, uid: 0, gid: 0, uname: '', gname: '', type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
            const src = createReadStream(abs);
            src.on('error', reject);
            src.pipe(entry);
          });
        }
      }
    };
    await walk('');
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return pack as unknown as Readable;
}
