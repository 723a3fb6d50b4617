import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Origin } from '../jobs/types.js';
import { tokenize } from '../commands/tokenize.js';

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

const MASK = '***';
/** `user:password@` (or a token as the user) in a URL: git and registry URLs carry them. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi;
/** Flags whose value is NAME=VALUE and VALUE may be a secret. */
const ASSIGN_FLAGS = ['-e', '--env', '--build-arg'];

function maskAssignment(v: string): string {
  const eq = v.indexOf('=');
  return eq > 0 ? `${v.slice(0, eq + 1)}${MASK}` : v; // a bare NAME takes its value from elsewhere
}

/** Text tokenize() refuses (unbalanced quotes, operators) is masked by pattern instead. */
function redactLoose(text: string): string {
  return text
    .replace(/((?:^|\s)(?:-e|--env|--build-arg)(?:=|\s+)['"]?[A-Za-z_][A-Za-z0-9_.-]*=)("[^"]*"?|'[^']*'?|\S*)/g, `$1${MASK}`)
    .replace(/((?:^|\s)--password(?:=|\s+))\S+/g, `$1${MASK}`)
    .replace(/^(\s*(?:(?:--host|-H)[=\s]+\S+\s+)?login\b.*?\s-p(?:=|\s+)?)(?!assword-stdin)\S+/, `$1${MASK}`)
    .replace(URL_USERINFO, `$1${MASK}@`);
}

/**
 * A command line with its secrets masked: values of `-e/--env NAME=VALUE` and `--build-arg`,
 * `login -p/--password`, and credentials in URLs. The audit keeps who ran what, not their passwords.
 */
export function redactCommand(text: string): string {
  let words: string[];
  try {
    words = tokenize(text);
  } catch {
    return redactLoose(text);
  }
  let changed = false;
  let verbAt = 0;
  while (['--host', '-H'].includes(words[verbAt])) verbAt += 2;
  while (words[verbAt]?.startsWith('--host=')) verbAt += 1;
  const login = words[verbAt] === 'login';
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    let r = w.replace(URL_USERINFO, `$1${MASK}@`);
    const next = words[i + 1];
    if ((ASSIGN_FLAGS.includes(w) || /^-[a-zA-Z]+e$/.test(w)) && next !== undefined) {
      out.push(w, maskAssignment(next));
      changed ||= maskAssignment(next) !== next;
      i++;
      continue;
    }
    if ((w === '--password' || (login && w === '-p')) && next !== undefined) {
      out.push(w, MASK);
      changed = true;
      i++;
      continue;
    }
    const long = /^(--env=|--build-arg=)(.*)$/s.exec(w);
    if (long) r = long[1] + maskAssignment(long[2]);
    else if (/^-e[A-Za-z_]/.test(w)) r = `-e${maskAssignment(w.slice(2))}`;
    else if (w.startsWith('--password=')) r = `--password=${MASK}`;
    else if (login && /^-p./.test(w)) r = `-p${MASK}`;
    changed ||= r !== w;
    out.push(r);
  }
  // Quoted as quoteWords does, but a mask stays readable: NAME=*** rather than 'NAME=***'.
  return changed ? out.map((w) => (w !== '' && /^[A-Za-z0-9_@%+=:,./*-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ') : text;
}

/**
 * Records one audit entry: a pino line, and an entry in a capped Redis stream that
 * `GET /api/audit` and `audit` read. Secrets in the command are masked first (redactCommand).
 * Never throws: an audit write failing must not fail the job.
 */
export async function recordAudit(redis: Redis, prefix: string, log: Logger, entry: AuditEntry): Promise<void> {
  const e: AuditEntry = { ...entry, command: redactCommand(entry.command), reason: entry.reason?.replace(URL_USERINFO, `$1${MASK}@`) };
  log.info({ audit: e }, 'audit');
  const fields: string[] = [];
  for (const [k, v] of Object.entries(e)) if (v !== undefined) fields.push(k, String(v));
  try {
    await redis.xadd(auditKey(prefix), 'MAXLEN', '~', String(AUDIT_MAX), '*', ...fields);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'audit write failed');
  }
}

/** One entry as read back: the recorded fields, its stream id and its time. */
export type AuditRow = Partial<AuditEntry> & { id: string; at: string } & Record<string, string | number | undefined>;

/**
 * The newest entries first, up to `count`, optionally only before a stream id (paging). Commands
 * are masked again on the way out, for entries written before masking existed.
 */
export async function readAudit(redis: Redis, prefix: string, count: number, before?: string): Promise<AuditRow[]> {
  const rows = await redis.xrevrange(auditKey(prefix), before ? `(${before}` : '+', '-', 'COUNT', count);
  return rows.map(([id, kv]) => {
    const o: Record<string, string | number> = { id, at: new Date(Number(id.split('-')[0])).toISOString() };
    for (let i = 0; i < kv.length; i += 2) o[kv[i]] = ['exitCode', 'ms'].includes(kv[i]) ? Number(kv[i + 1]) : kv[i + 1];
    if (typeof o.command === 'string') o.command = redactCommand(o.command);
    if (typeof o.reason === 'string') o.reason = o.reason.replace(URL_USERINFO, `$1${MASK}@`);
    return o as AuditRow;
  });
}
