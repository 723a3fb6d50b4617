import type Docker from 'dockerode';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { tarFacts, type EntryFacts } from '../../src/backup/check.js';
import { readVolume, withVolumeContainer, writeVolume } from '../../src/backup/volumes.js';

/**
 * A volume's worth of awkward content, written into a real volume through the Engine's archive API:
 * many small files, a deep tree, symlinks (relative, absolute, dangling), hard links, unicode and
 * space names, empty files and directories, unusual modes and owners, and optionally one big file.
 */
export function fixtureTar(opts: { smallFiles?: number; bigBytes?: number } = {}): Readable {
  const pack = tar.pack();
  const small = opts.smallFiles ?? 10_000;
  const root = 'fx';
  const mtime = new Date('2026-01-02T03:04:05Z');
  const dir = (name: string, mode = 0o755, uid = 0, gid = 0) => pack.entry({ name: `${root}/${name}`, type: 'directory', mode, uid, gid, mtime });
  const file = (name: string, body: string | Buffer, mode = 0o644, uid = 0, gid = 0) => pack.entry({ name: `${root}/${name}`, mode, uid, gid, mtime }, body);
  void (async () => {
    pack.entry({ name: `${root}/`, type: 'directory', mode: 0o755, mtime });
    dir('many');
    for (let d = 0; d * 100 < small; d++) {
      dir(`many/d${d}`);
      for (let f = 0; f < 100 && d * 100 + f < small; f++) file(`many/d${d}/f${f}.txt`, `file ${d}/${f}\n${'x'.repeat((d * 7 + f) % 300)}\n`);
    }
    let deep = 'deep';
    dir(deep);
    for (let i = 0; i < 40; i++) {
      deep += `/level${i}`;
      dir(deep);
    }
    file(`${deep}/bottom.txt`, 'at the bottom\n');
    dir('links');
    pack.entry({ name: `${root}/links/relative`, type: 'symlink', linkname: '../many/d0/f0.txt', mtime });
    pack.entry({ name: `${root}/links/absolute`, type: 'symlink', linkname: '/etc/passwd', mtime });
    pack.entry({ name: `${root}/links/dangling`, type: 'symlink', linkname: 'nowhere/at/all', mtime });
    dir('hard');
    file('hard/original', 'shared by two names\n');
    pack.entry({ name: `${root}/hard/second name`, type: 'link', linkname: `${root}/hard/original`, mtime });
    dir('名前 with spaces');
    file('名前 with spaces/ünïcødé ☃ file.txt', 'unicode\n');
    file('名前 with spaces/  leading and trailing  ', 'spaces\n');
    file('empty-file', '');
    dir('empty-dir');
    dir('private', 0o700, 1000, 1000);
    file('private/secret', 'owned by 1000\n', 0o600, 1000, 1000);
    file('www-data.txt', 'owned by 33:33\n', 0o640, 33, 33);
    file('run.sh', '#!/bin/sh\necho hi\n', 0o755);
    file('sticky-setgid', 'modes\n', 0o2755);
    if (opts.bigBytes) {
      // Compressible but not trivial: a 1 MiB block of pseudo-random text, repeated.
      const block = Buffer.alloc(1 << 20);
      let x = 12345;
      for (let i = 0; i < block.length; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        block[i] = 97 + ((x >>> 16) % 26);
      }
      const entry = pack.entry({ name: `${root}/big.bin`, size: opts.bigBytes, mode: 0o644, mtime });
      let left = opts.bigBytes;
      while (left > 0) {
        const n = Math.min(left, block.length);
        if (!entry.write(n === block.length ? block : block.subarray(0, n))) await new Promise((r) => entry.once('drain', r));
        left -= n;
      }
      entry.end();
      await new Promise((r) => entry.once('finish', r));
    }
    pack.finalize();
  })();
  return pack;
}

/** Fills a (new, empty) volume with the fixture. */
export async function fillVolume(docker: Docker, volume: string, opts: { smallFiles?: number; bigBytes?: number } = {}) {
  const signal = new AbortController().signal;
  await withVolumeContainer(docker, [{ volume, at: 'fx' }], 'test', (c) => writeVolume(c, fixtureTar(opts), signal));
}

/** Every entry of a volume as verify compares them (path, type, size, mode, owner, link, sha256). */
export async function volumeFacts(docker: Docker, volume: string): Promise<Map<string, EntryFacts>> {
  const signal = new AbortController().signal;
  return withVolumeContainer(docker, [{ volume, at: 'v', readOnly: true }], 'test', async (c) => tarFacts(await readVolume(c, 'v', signal), signal));
}
