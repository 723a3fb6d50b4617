import type { Redis } from 'ioredis';

/**
 * Admission of builds, kept in Redis so that it holds across API processes, several workers and
 * worker restarts: a lock per repository (one build of a repository at a time) and a set of
 * running builds per host with a limit (DOCKOPS_BUILD_CONCURRENCY). Both expire unless renewed,
 * so a worker that dies frees its place once its lease lapses; the job itself, taken up again by
 * another worker, gets its place back at once (the lock is re-entrant for the same job ID).
 * BullMQ's groups would do this but are Pro-only.
 */

// KEYS[1] the repository lock, KEYS[2] the host's running set (score: lease end), KEYS[3] waiters
// ARGV[1] job ID, ARGV[2] lease ms, ARGV[3] limit. Redis's own clock: workers' clocks may differ.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  redis.call('ZADD', KEYS[3], now, ARGV[1])
  return {'repo', holder}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  local running = redis.call('ZCARD', KEYS[2])
  if running >= tonumber(ARGV[3]) then
    redis.call('ZADD', KEYS[3], now, ARGV[1])
    return {'full', tostring(running)}
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return {'ok', ''}
`;

const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return 1
`;

// Frees the place and hands back who waits (they are promoted, not left to their next poll).
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('ZREM', KEYS[2], ARGV[1])
local waiting = redis.call('ZRANGE', KEYS[3], 0, -1)
redis.call('DEL', KEYS[3])
return waiting
`;

export interface GateKeys {
  lock: string;
  running: string;
  waiting: string;
}

export function gateKeys(prefix: string, host: string, repository: string): GateKeys {
  return {
    lock: `${prefix}:build-lock:${host}:${repository.toLowerCase()}`,
    running: `${prefix}:build-running:${host}`,
    waiting: `${prefix}:build-waiting:${host}`,
  };
}

export type Admission = { ok: true } | { ok: false; reason: 'repo'; holder: string } | { ok: false; reason: 'full'; running: number };

/** Takes the repository's lock and a place among the host's running builds, or says why not. */
export async function acquireBuild(redis: Redis, keys: GateKeys, jobId: string, leaseMs: number, limit: number): Promise<Admission> {
  const [what, detail] = (await redis.eval(ACQUIRE, 3, keys.lock, keys.running, keys.waiting, jobId, leaseMs, limit)) as [string, string];
  if (what === 'ok') return { ok: true };
  if (what === 'repo') return { ok: false, reason: 'repo', holder: detail };
  return { ok: false, reason: 'full', running: Number(detail) };
}

/** Extends the lease; false when it was lost (expired and taken by another build). */
export async function renewBuild(redis: Redis, keys: GateKeys, jobId: string, leaseMs: number): Promise<boolean> {
  return (await redis.eval(RENEW, 2, keys.lock, keys.running, jobId, leaseMs)) === 1;
}

/** Frees the lock and the place; returns the IDs of builds that were waiting for one. */
export async function releaseBuild(redis: Redis, keys: GateKeys, jobId: string): Promise<string[]> {
  return (await redis.eval(RELEASE, 3, keys.lock, keys.running, keys.waiting, jobId)) as string[];
}
