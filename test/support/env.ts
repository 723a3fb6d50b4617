import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { Redis } from 'ioredis';

/**
 * The real stack the integration tests use, as `scripts/stack.sh up` left it. Tests never start
 * their own fakes: a missing engine is a failure to fix, not a test to skip.
 */
export const DOCKER_HOST = process.env.DOCKER_HOST ?? 'unix:///run/dockops/docker.sock';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REGISTRY = process.env.DOCKOPS_REGISTRY ?? 'localhost:5000';
/** The second engine of `scripts/stack.sh up` ("engine b": no network of its own), for tests of several hosts. */
export const DOCKER_HOST_B = process.env.DOCKOPS_TEST_DOCKER_HOST_B ?? 'unix:///run/dockops/docker-b.sock';

/** Debian's docker client (20.10): the one that matches the engine, installed by stack.sh. */
export const DOCKER_CLI = process.env.DOCKOPS_TEST_DOCKER_CLI ?? '/usr/bin/docker';

export function docker(): Docker {
  return new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, '') });
}

export function dockerB(): Docker {
  return new Docker({ socketPath: DOCKER_HOST_B.replace(/^unix:\/\//, '') });
}

export function redis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}

/** A fresh, unique queue prefix per test (BullMQ's own tests do the same). */
export function testPrefix(): string {
  return `test-${randomUUID().slice(0, 8)}`;
}

/** Runs the real docker CLI against the test engine. */
export function dockerCli(args: string[]): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(DOCKER_CLI, args, { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** Removes every key a test prefix made in Redis. */
export async function dropPrefix(r: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await r.del(...keys);
  } while (cursor !== '0');
}

/** Unique name for a container or image a test makes (and removes). */
export function uniqueName(what: string): string {
  return `dockops-test-${what}-${randomUUID().slice(0, 8)}`;
}

/**
 * Builds a small image with a layer of its own (offline, FROM busybox), pushes it to the local
 * registry as NAME:TAG and removes it locally, so a pull has a real layer to download.
 */
export function pushToRegistry(name: string, tag = 'latest'): string {
  const ref = `${REGISTRY}/${name}:${tag}`;
  execFileSync(DOCKER_CLI, ['build', '-q', '-t', ref, '-'], {
    env: { ...process.env, DOCKER_HOST },
    input: `FROM busybox:latest\nRUN echo ${randomUUID()} > /id\n`,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  execFileSync(DOCKER_CLI, ['push', ref], { env: { ...process.env, DOCKER_HOST }, stdio: 'ignore' });
  execFileSync(DOCKER_CLI, ['rmi', ref], { env: { ...process.env, DOCKER_HOST }, stdio: 'ignore' });
  return ref;
}
