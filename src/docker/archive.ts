import type Docker from 'dockerode';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/** What the engine says of a path in a container (the X-Docker-Container-Path-Stat header). */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** Go's os.ModeDir bit, as the engine reports modes. */
const MODE_DIR = 2 ** 31;
/** Go's os.ModeSymlink bit. */
const MODE_SYMLINK = 2 ** 27;

export const isDir = (s: PathStat) => (s.mode & MODE_DIR) !== 0 || s.mode >= MODE_DIR;
export const isSymlink = (s: PathStat) => Math.floor(s.mode / MODE_SYMLINK) % 2 === 1;

type Dial = { dial(o: object, cb: (err: (Error & { statusCode?: number }) | null, res: unknown) => void): void };

/** HEAD /containers/{id}/archive: the stat of a path, or undefined when it does not exist. */
export async function statPath(docker: Docker, container: string, p: string): Promise<PathStat | undefined> {
  const modem = docker.modem as unknown as Dial & { buildRequest?: unknown };
  return new Promise((resolve, reject) => {
    modem.dial(
      {
        path: `/containers/${encodeURIComponent(container)}/archive?`,
        method: 'HEAD',
        options: { path: p },
        isStream: true,
        statusCodes: { 200: true, 404: 'no such path', 500: 'server error' },
      },
      (err, res) => {
        if (err) {
          // A HEAD answer has no body: 404 is "no such path" here (the caller checked the container).
          if (err.statusCode === 404) return resolve(undefined);
          return reject(err);
        }
        const r = res as Readable & { headers?: Record<string, string> };
        const header = r.headers?.['x-docker-container-path-stat'];
        r.resume?.();
        if (!header) return resolve(undefined);
        resolve(JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PathStat);
      },
    );
  });
}

/**
 * Renames the top entry of a tar stream (`hosts` → `hosts.bak`, `dir/...` → `new/...`), the way
 * `docker cp` copies SRC to a DEST that does not exist yet.
 */
export function renameRoot(from: string, to: string): { input: PassThrough; output: Readable; done: Promise<void> } {
  const extract = tar.extract();
  const pack = tar.pack();
  const input = new PassThrough();
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    if (name === from || name === `${from}/`) header.name = name.replace(from, to);
    else if (name.startsWith(`${from}/`)) header.name = to + name.slice(from.length);
    stream.pipe(pack.entry(header, next));
  });
  extract.on('finish', () => pack.finalize());
  const done = pipeline(input, extract);
  return { input, output: pack, done };
}

/** The first path segment of a tar's first entry: what `docker cp` named the copied thing. */
export async function firstEntryRoot(source: Readable): Promise<string | undefined> {
  const extract = tar.extract();
  return new Promise((resolve, reject) => {
    let found: string | undefined;
    extract.on('entry', (header, stream, next) => {
      if (found === undefined) found = header.name.replace(/^\.\//, '').split('/')[0];
      stream.resume();
      stream.on('end', next);
    });
    extract.on('finish', () => resolve(found));
    extract.on('error', reject);
    source.pipe(extract);
  });
}
