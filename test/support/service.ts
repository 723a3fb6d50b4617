import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job, Queue } from 'bullmq';
import { DOCKER_HOST, REDIS_URL } from './env.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin/dockops');

export interface Service {
  url: string;
  token: string;
  prefix: string;
  proc: ChildProcess;
  logs(): string;
  /** What the process wrote to stderr (Node's own crash and warning output lands here). */
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the real `dockops start` process (or `serve`: the doors only) on a free port with a queue
 * prefix of its own (DOCKOPS_QUEUE_PREFIX in `env` shares another's).
 */
export async function startService(env: Record<string, string> = {}, command: 'start' | 'serve' = 'start'): Promise<Service> {
  const token = randomBytes(16).toString('hex');
  const prefix = env.DOCKOPS_QUEUE_PREFIX ?? `e2e-${randomBytes(4).toString('hex')}`;
  const proc = spawn(BIN, [command], {
    env: {
      ...process.env,
      DOCKER_HOST,
      REDIS_URL,
      DOCKOPS_PORT: '0',
      DOCKOPS_ANNOUNCE: '1',
      DOCKOPS_API_TOKENS: `e2e:${token}`,
      DOCKOPS_QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${err}\n${out}`)), 30_000);
    proc.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /dockops listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${err}\n${out}`));
    });
  });
  return {
    url,
    token,
    prefix,
    proc,
    logs: () => out,
    stderr: () => err,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      return new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
        proc.once('exit', (code) => resolve(code));
        proc.kill(signal);
      });
    },
  };
}

/** The real `dockops worker --host HOST` process on a service's queues; resolves once it has started. */
export async function startWorkerProcess(svc: Pick<Service, 'prefix'>, host: string, env: Record<string, string> = {}): Promise<Pick<Service, 'proc' | 'logs' | 'stop'>> {
  const proc = spawn(BIN, ['worker', '--host', host], {
    env: { ...process.env, DOCKER_HOST, REDIS_URL, DOCKOPS_QUEUE_PREFIX: svc.prefix, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${out}`)), 30_000);
    const seen = (c: Buffer) => {
      out += c.toString();
      if (out.includes('dockops worker started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on('data', seen);
    proc.stderr?.on('data', seen);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}:\n${out}`));
    });
  });
  return {
    proc,
    logs: () => out,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      return new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
        proc.once('exit', (code) => resolve(code));
        proc.kill(signal);
      });
    },
  };
}

/**
 * Runs `dockops docker <args>` as a person would, against a running service. `cwd`: where it runs;
 * `stdin`: bytes piped in (then closed); without it stdin is /dev/null; `timeout`: killed after it (code null).
 */
export function cli(svc: Pick<Service, 'url' | 'token'>, args: string[], env: Record<string, string> = {}, opts: { cwd?: string; stdin?: Buffer; timeout?: number } = {}): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const p = spawn(BIN, ['docker', ...args], {
      env: { ...process.env, DOCKOPS_API_URL: svc.url, DOCKOPS_TOKEN: svc.token, ...env },
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      cwd: opts.cwd,
      timeout: opts.timeout,
    });
    if (opts.stdin && p.stdin) {
      // The CLI may exit before reading it all: EPIPE is no failure of the test.
      p.stdin.on('error', () => undefined);
      p.stdin.end(opts.stdin);
    }
    let stdout = '';
    let stderr = '';
    p.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    // 'close': after the process ended and its output was read to the end.
    p.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}

/** A JSON call to the service's API. */
export async function api(svc: Pick<Service, 'url' | 'token'>, method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${svc.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.status, body: json };
}

/** Waits up to `ms` for a job of a queue to end; returns its final state ('' if it never did) and the job. */
export async function finishedJob(q: Queue, id: string, ms = 60_000): Promise<{ state: string; job: Job | undefined }> {
  let state = '';
  for (const end = Date.now() + ms; Date.now() < end && state !== 'completed' && state !== 'failed'; ) {
    await new Promise((res) => setTimeout(res, 100));
    state = (await (await q.getJob(id))?.getState()) ?? '';
  }
  return { state, job: await q.getJob(id) };
}
