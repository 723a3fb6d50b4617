import type { Redis } from 'ioredis';

// Build records in Redis that commands read as well as doors: kept apart from the job queue
// module, which the command registry must not load (it imports the registry).

/** Builds kept in the index `builds ls` reads (newest first). */
export const BUILD_INDEX_MAX = 1000;
/** How long a superseded build's record is kept (for `builds ls` and its Slack message). */
export const SUPERSEDED_TTL_S = 7 * 86_400;

export function buildIndexKey(prefix: string): string {
  return `${prefix}:builds`;
}

export function supersededKey(prefix: string, jobId: string): string {
  return `${prefix}:build-superseded:${jobId}`;
}

/** What is known of a build that a newer push replaced (its job may be gone: it was queued). */
export interface Superseded {
  /** The commit that replaced it, and that commit's build job. */
  by: string;
  byJob: string;
  repository: string;
  sourceref: string;
  sha: string;
  tags: string[];
  at: number;
  /** What happened to it: removed from the queue, or cancelled while it ran. */
  how?: 'removed' | 'cancelled';
}

/** The superseded record of a build, if a newer push replaced it. */
export async function readSuperseded(redis: Redis, prefix: string, jobId: string): Promise<Superseded | undefined> {
  const raw = await redis.get(supersededKey(prefix, jobId));
  return raw ? (JSON.parse(raw) as Superseded) : undefined;
}
