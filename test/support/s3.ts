import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * A real S3-compatible server for tests: s3rver (npm) in a child process on 127.0.0.1, so a test
 * can kill it mid-upload and start it again on the same port and directory. Its request log is kept
 * (`log()`), to see which S3 calls reached it. Credentials are s3rver's own: S3RVER / S3RVER.
 */
export interface S3rver {
  endpoint: string;
  port: number;
  log(): string;
  /** SIGKILL, as a server that dies; resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');

function launch(dir: string, port: number, buckets: string[], onLog: (s: string) => void): Promise<{ child: ChildProcess; port: number }> {
  const args = [bin, '-d', dir, '-a', '127.0.0.1', '-p', String(port)];
  for (const b of buckets) args.push('--configure-bucket', b);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      const s = d.toString();
      onLog(s);
      out += s;
      const m = /S3rver listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        out = '';
        resolve({ child, port: Number(m[1]) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => onLog(d.toString()));
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening: ${out}`)));
  });
}

export async function startS3rver(dir: string, buckets: string[]): Promise<S3rver> {
  let log = '';
  const append = (s: string) => {
    log += s;
  };
  let { child, port } = await launch(dir, 0, buckets, append);
  const gone = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    log: () => log,
    async kill() {
      child.kill('SIGKILL');
      await gone(child);
    },
    async restart() {
      ({ child } = await launch(dir, port, [], append));
    },
    async stop() {
      child.kill('SIGTERM');
      await gone(child);
    },
  };
}
