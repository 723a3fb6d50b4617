import type { JobResult } from '../../jobs/types.js';
import { toDockerError } from '../../errors.js';

/**
 * docker's way with verbs over several containers (stop, kill, pause, rm…): the operation runs on
 * every container, each success prints its line on stdout in the order given, and the failures
 * are printed together on stderr at the end with exit code 1.
 */
export async function forEachContainer(
  names: string[],
  op: (name: string) => Promise<string | undefined>,
  opts: { errorText?: (err: unknown, name: string) => string; ignore?: (err: unknown) => boolean } = {},
): Promise<JobResult> {
  const errorText = opts.errorText ?? ((err: unknown) => toDockerError(err).message);
  const settled = await Promise.allSettled(names.map((n) => op(n)));
  let stdout = '';
  let soft = '';
  const errs: string[] = [];
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') {
      stdout += `${s.value ?? names[i]}\n`;
    } else if (opts.ignore?.(s.reason)) {
      soft += `${errorText(s.reason, names[i])}\n`;
    } else {
      errs.push(errorText(s.reason, names[i]));
    }
  });
  const stderr = soft + errs.map((e) => `${e}\n`).join('');
  return { exitCode: errs.length ? 1 : 0, stdout, stderr, streamed: false, truncated: false };
}
