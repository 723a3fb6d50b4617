import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Origin } from '../jobs/types.js';

/** Entries kept in the audit stream; older ones are trimmed (approximately, as XADD MAXLEN ~ does). */
export const AUDIT_MAX = 100_000;

export interface AuditEntry {
  door: Origin['door'];
  /** Who: token name, Slack user, GitHub repo, schedule name. */
  who: string;
  /** Where: Slack channel, API client address, repository. */
  where?: string;
  command: string;
  host?: string;
  jobId?: string;
  outcome: 'refused' | 'completed' | 'failed';
  exitCode?: number;
  ms?: number;
  reason?: string;
}

export function auditKey(prefix: string): string {
  return `${prefix}:audit`;
}

/** Who and where, from an origin, without anything secret. */
export function originWho(o: Origin): { door: Origin['door']; who: string; where?: string } {
  switch (o.door) {
    case 'api':
      return { door: 'api', who: o.token, where: o.ip };
    case 'cli':
      return { door: 'cli', who: o.user ? `${o.token}/${o.user}` : o.token };
    case 'slack':
      return { door: 'slack', who: o.user, where: `${o.team}/${o.channel}` };
    case 'github':
      return { door: 'github', who: o.repo, where: o.sha };
    case 'schedule':
      return { door: 'schedule', who: o.name };
  }
}

/**
 * Records one audit entry: a pino line, and an entry in a capped Redis stream that
 * `GET /api/audit` reads. Never throws: an audit write failing must not fail the job.
 */
export async function recordAudit(redis: Redis, prefix: string, log: Logger, e: AuditEntry): Promise<void> {
  log.info({ audit: e }, 'audit');
  const fields: string[] = [];
  for (const [k, v] of Object.entries(e)) if (v !== undefined) fields.push(k, String(v));
  try {
    await redis.xadd(auditKey(prefix), 'MAXLEN', '~', String(AUDIT_MAX), '*', ...fields);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'audit write failed');
  }
}

/** The newest entries first, up to `count`, optionally only before a stream id (paging). */
export async function readAudit(redis: Redis, prefix: string, count: number, before?: string) {
  const rows = await redis.xrevrange(auditKey(prefix), before ? `(${before}` : '+', '-', 'COUNT', count);
  return rows.map(([id, kv]) => {
    const o: Record<string, string | number> = { id, at: new Date(Number(id.split('-')[0])).toISOString() };
    for (let i = 0; i < kv.length; i += 2) o[kv[i]] = ['exitCode', 'ms'].includes(kv[i]) ? Number(kv[i + 1]) : kv[i + 1];
    return o;
  });
}
