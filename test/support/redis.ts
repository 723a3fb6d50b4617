import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface OwnRedis {
  port: number;
  url: string;
  dir: string;
  proc(): ChildProcess | undefined;
  /** Starts redis-server (again) on the same port and directory, and waits for PONG. */
  start(): Promise<void>;
  /** SIGTERM (Redis writes its AOF and exits), and waits for the exit. */
  stop(): Promise<void>;
  /** Stops it and removes its directory. */
  remove(): Promise<void>;
}

/**
 * A redis-server of the test's own (Debian's), on a free 127.0.0.1 port with a temp directory: the
 * machine's shared Redis on 6379 is never stopped or changed. `args` are redis-server options;
 * the default is AOF on, as production should run it.
 */
export async function ownRedis(args: string[] = ['--save', '', '--appendonly', 'yes']): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-redis-'));
  let p: ChildProcess | undefined;
  const r: OwnRedis = {
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    proc: () => p,
    async start() {
      p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...args], { stdio: 'ignore' });
      for (let i = 0; i < 200; i++) {
        if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return;
        if (p.exitCode !== null) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error(`test redis on port ${port} did not start`);
    },
    async stop() {
      const q = p;
      if (!q || q.exitCode !== null || q.signalCode !== null) return;
      await new Promise((res) => {
        q.once('exit', res);
        q.kill('SIGTERM');
      });
    },
    async remove() {
      await r.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await r.start();
  return r;
}

/** redis-cli against a test Redis; returns stdout trimmed. */
export function redisCli(port: number, args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
}
