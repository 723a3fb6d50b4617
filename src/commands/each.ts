import { notFoundOr } from '../errors.js';
import type { JobResult } from '../jobs/types.js';

/**
 * docker's `volume rm` / `network rm`: each name in turn, the names removed on stdout, every
 * failure on stderr, exit 1 if any failed. An unreachable engine fails the job instead.
 */
export async function removeEach(names: string[], what: 'volume' | 'network', remove: (name: string) => Promise<unknown>): Promise<JobResult> {
  const removed: string[] = [];
  const errors: string[] = [];
  for (const name of names) {
    try {
      await remove(name);
      removed.push(name);
    } catch (err) {
      const e = notFoundOr(err, what, name);
      if (e.code === 'unavailable') throw e;
      errors.push(e.message);
    }
  }
  return {
    exitCode: errors.length ? 1 : 0,
    stdout: removed.map((n) => `${n}\n`).join(''),
    stderr: errors.map((e) => `${e}\n`).join(''),
    streamed: false,
    truncated: false,
    data: { removed, errors },
  };
}
