import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { toDockerError } from '../errors.js';
import { demux } from './streams.js';

/**
 * Follows a started, attached exec: its output goes to `onOutput` as it comes, and the exit code is
 * returned once the engine has recorded it. On abort it stops waiting (the Engine API cannot kill an
 * exec'd process) and answers `undefined`.
 */
export async function followExec(
  exec: Docker.Exec,
  onOutput: (stream: 'stdout' | 'stderr', text: string) => void,
  signal: AbortSignal,
  log: Logger,
): Promise<number | undefined> {
  let stream: NodeJS.ReadWriteStream;
  try {
    stream = (await exec.start({ hijack: true, stdin: false, Detach: false, Tty: false } as Docker.ExecStartOptions)) as unknown as NodeJS.ReadWriteStream;
  } catch (err) {
    throw toDockerError(err);
  }
  const push = demux((s, data) => onOutput(s, data.toString('utf8')));
  const cancelled = await new Promise<boolean>((resolve, reject) => {
    let done = false;
    const finish = (aborted: boolean) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      resolve(aborted);
    };
    const onAbort = () => {
      log.info({ exec: exec.id }, 'no longer waiting for the exec (its process is not killed)');
      (stream as unknown as { destroy(): void }).destroy();
      finish(true);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (c: Buffer) => push(c));
    stream.on('end', () => finish(false));
    stream.on('close', () => finish(false));
    stream.on('error', (e) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      reject(toDockerError(e));
    });
  });
  if (cancelled) return undefined;
  // The stream ends a moment before the engine records the exit code: ask until it has one.
  let info: Docker.ExecInspectInfo | undefined;
  for (let i = 0; i < 50; i++) {
    try {
      info = await exec.inspect();
    } catch (err) {
      throw toDockerError(err);
    }
    if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return info?.ExitCode ?? 126;
}
