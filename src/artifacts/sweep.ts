import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

const ID = /^[0-9a-f]{24}$/;

/**
 * How old an artifact directory is. A complete artifact counts from its createdAt; one without
 * meta.json is a write in progress (or one abandoned by a dead process) and counts from the
 * newest change of the directory or any file in it, so a `.partial-` file still being written is
 * always young.
 */
async function ageOf(dir: string, now: number): Promise<number | undefined> {
  try {
    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as { createdAt?: string };
    const created = Date.parse(meta.createdAt ?? '');
    if (!Number.isNaN(created)) return now - created;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) return undefined;
  }
  try {
    let newest = (await stat(dir)).mtimeMs;
    for (const name of await readdir(dir)) {
      const s = await stat(path.join(dir, name)).catch(() => undefined);
      if (s) newest = Math.max(newest, s.mtimeMs);
    }
    return now - newest;
  } catch {
    return undefined; // removed meanwhile
  }
}

/**
 * Removes the artifacts older than `ttlMs`. Several processes may sweep the same directory at
 * once: each removal is idempotent (`rm -rf` of a directory another sweep removed is a no-op),
 * and nothing but artifact directories (24 hex digits) is ever touched.
 */
export async function sweepArtifacts(root: string, ttlMs: number, now: number): Promise<string[]> {
  if (ttlMs <= 0) return [];
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const id of names) {
    if (!ID.test(id)) continue;
    const dir = path.join(root, id);
    const age = await ageOf(dir, now);
    if (age === undefined || age < ttlMs) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(id);
  }
  return removed;
}

/**
 * Sweeps now and then every `everyMs` (a tenth of the TTL, between 1 s and 10 min), until stopped.
 * The timer does not keep the process alive.
 */
export function startArtifactSweeper(opts: { root: string; ttlMs: number; log: Logger; now?: () => number; everyMs?: number }) {
  if (opts.ttlMs <= 0) return { stop: () => undefined, sweep: async () => [] as string[] };
  const now = opts.now ?? Date.now;
  const every = opts.everyMs ?? Math.min(600_000, Math.max(1000, Math.floor(opts.ttlMs / 10)));
  let running: Promise<string[]> | undefined;
  const sweep = () => {
    running ??= sweepArtifacts(opts.root, opts.ttlMs, now())
      .then((ids) => {
        if (ids.length) opts.log.info({ removed: ids.length, ids: ids.slice(0, 20) }, 'expired artifacts removed');
        return ids;
      })
      .catch((err) => {
        opts.log.warn({ err: (err as Error).message }, 'artifact sweep failed');
        return [];
      })
      .finally(() => (running = undefined));
    return running;
  };
  void sweep();
  const timer = setInterval(() => void sweep(), every);
  timer.unref();
  return { stop: () => clearInterval(timer), sweep };
}
