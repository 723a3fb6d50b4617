import { Queue } from 'bullmq';
import type Docker from 'dockerode';
import type { Redis } from 'ioredis';
import { queueName } from '../jobs/queue.js';
import { daemonMessage } from '../errors.js';

/** One configured Docker host as the `hosts` verb shows it. */
export interface HostStatus {
  name: string;
  /** The host's URL with any user:password taken out. */
  url: string;
  default: boolean;
  /** Engine version (`20.10.24+dfsg1`) and API version, or the error that kept us from asking. */
  engine?: { version: string; apiVersion: string; os: string; arch: string };
  error?: string;
  /** Live BullMQ workers on the host's queue (`jobs-<host>`); -1 when Redis could not say. */
  workers: number;
  waiting: number;
  active: number;
  delayed: number;
}

/** Everything needed to look at every host: given to workers, used by the `hosts` verb. */
export interface Fleet {
  hosts: Array<{ name: string; url: string }>;
  defaultHost: string;
  engines: Map<string, Docker>;
  connection: Redis;
  prefix: string;
}

/** An engine that does not answer in this long is reported as unreachable, not waited for. */
const ENGINE_TIMEOUT_MS = 5000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer in ${ms / 1000}s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A URL fit to show: `tcp://user:secret@h:2376` → `tcp://h:2376`. */
export function shownUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^/@]*@/i, '$1');
}

function engineError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(e?.code ?? '')) {
    return `Cannot connect to the Docker daemon (${e.message ?? e.code}). Is the docker daemon running?`;
  }
  return daemonMessage(err);
}

/** Asks every engine for its version and Redis for each host queue's workers and depth, all at once. */
export async function fleetStatus(f: Fleet): Promise<HostStatus[]> {
  return Promise.all(
    f.hosts.map(async (h): Promise<HostStatus> => {
      const row: HostStatus = { name: h.name, url: shownUrl(h.url), default: h.name === f.defaultHost, workers: -1, waiting: 0, active: 0, delayed: 0 };
      const docker = f.engines.get(h.name);
      const engine = (async () => {
        try {
          if (!docker) throw new Error('no client for this host');
          const v = await withTimeout(docker.version(), ENGINE_TIMEOUT_MS, 'the engine');
          row.engine = { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, arch: v.Arch };
        } catch (err) {
          row.error = engineError(err);
        }
      })();
      // A Queue on the shared connection only reads; closing it leaves the connection open.
      const q = new Queue(queueName(h.name), { connection: f.connection, prefix: f.prefix });
      q.on('error', () => undefined);
      const queue = (async () => {
        try {
          const [workers, counts] = await Promise.all([q.getWorkersCount(), q.getJobCounts('waiting', 'prioritized', 'active', 'delayed')]);
          Object.assign(row, { workers, waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0), active: counts.active ?? 0, delayed: counts.delayed ?? 0 });
        } catch (err) {
          row.error = [row.error, `queue: ${(err as Error).message}`].filter(Boolean).join('; ');
        } finally {
          await q.close().catch(() => undefined);
        }
      })();
      await Promise.all([engine, queue]);
      return row;
    }),
  );
}
