import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** The file name ending of an archive: what `tar` needs to open it without dockops. */
export const EXTENSION: Record<Compression, string> = { zstd: '.tar.zst', gzip: '.tar.gz', none: '.tar' };

/**
 * A child process as a stream: stdin is written, stdout read. It fails with the program's stderr
 * when it exits non-zero. Arguments are fixed by dockops (no shell, no user text).
 */
function program(cmd: string, args: string[]): Duplex {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const duplex = Duplex.from({ writable: child.stdin, readable: child.stdout });
  child.on('error', (err) => duplex.destroy(new Error(`${cmd}: ${err.message}${(err as NodeJS.ErrnoException).code === 'ENOENT' ? ` (install ${cmd}: apt-get install ${cmd})` : ''}`)));
  child.on('close', (code, sig) => {
    if (code !== 0 && !duplex.destroyed) duplex.destroy(new Error(`${cmd} exited with ${code ?? sig}: ${stderr.trim()}`));
  });
  duplex.on('close', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return duplex;
}

/**
 * The stages that compress an archive, as a list for a pipeline: gzip in-process (zlib), zstd with
 * Debian's `zstd` (Node 20 has none), nothing for a plain `.tar` (no stage that only passes bytes on).
 */
export function compressStages(kind: Compression, level?: number): Duplex[] {
  switch (kind) {
    case 'gzip':
      return [zlib.createGzip({ level: level ?? 6, chunkSize: 256 * 1024 })];
    case 'zstd':
      return [program('zstd', ['-q', '-c', `-${level ?? 3}`, '-T0'])];
    default:
      return [];
  }
}

/** The matching decompression stages. */
export function decompressStages(kind: Compression): Duplex[] {
  switch (kind) {
    case 'gzip':
      return [zlib.createGunzip({ chunkSize: 256 * 1024 })];
    case 'zstd':
      return [program('zstd', ['-q', '-d', '-c'])];
    default:
      return [];
  }
}
