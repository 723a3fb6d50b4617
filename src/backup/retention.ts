import type { Manifest } from './target.js';
import { parseGoDuration } from '../render/time.js';

/** How many backups of a volume to keep. Combined: a backup stays if any rule keeps it. */
export interface Retention {
  last?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  /** Backups older than this go even when a count would keep them (never the newest verified one). */
  maxAgeMs?: number;
}

/** Reads `last=7,daily=7,weekly=4,monthly=12,max-age=8760h` (the variable and the flags share it). */
export function parseRetention(text: string): Retention {
  const r: Retention = {};
  for (const part of text.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [k, v = ''] = part.split('=', 2) as [string, string?];
    if (k === 'max-age') {
      const ms = parseAge(v);
      if (ms === undefined) throw new Error(`max-age=${v}: not a duration (for example 720h, 90d)`);
      r.maxAgeMs = ms;
      continue;
    }
    if (!['last', 'daily', 'weekly', 'monthly'].includes(k)) throw new Error(`"${part}": use last=, daily=, weekly=, monthly= or max-age=`);
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`"${part}": ${k} must be a whole number`);
    r[k as 'last'] = n;
  }
  return r;
}

/** A Go duration, or a number of days (`90d`): retention is counted in days. */
export function parseAge(v: string): number | undefined {
  const d = /^(\d+)d$/.exec(v);
  if (d) return Number(d[1]) * 86_400_000;
  return parseGoDuration(v);
}

const day = (t: Date) => t.toISOString().slice(0, 10);
const month = (t: Date) => t.toISOString().slice(0, 7);
/** ISO 8601 week (year-Www), in UTC. */
function week(t: Date): string {
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  const dow = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - dow);
  const year = d.getUTCFullYear();
  const n = Math.ceil(((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(n).padStart(2, '0')}`;
}

export interface PrunePlan {
  volume: string;
  keep: { m: Manifest; why: string[] }[];
  drop: Manifest[];
  /** Pruning of this volume is held: nothing is dropped, and this says why (an alert). */
  held?: string;
}

/**
 * What pruning would do to one volume's backups. It never drops the newest verified backup (the
 * newest one when none is verified), never drops them all, and holds everything when the newest
 * backup is much smaller than the one before it (a volume emptied by mistake, then backed up).
 */
export function planPrune(volume: string, all: Manifest[], r: Retention, now: number, shrinkRatio: number): PrunePlan {
  const list = [...all].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  const why = new Map<string, string[]>();
  const mark = (m: Manifest, reason: string) => {
    const w = why.get(m.id) ?? [];
    w.push(reason);
    why.set(m.id, w);
  };
  const counts = r.last !== undefined || r.daily !== undefined || r.weekly !== undefined || r.monthly !== undefined;
  if (!counts) for (const m of list) mark(m, 'no count set');
  list.slice(0, r.last ?? 0).forEach((m) => mark(m, 'last'));
  const buckets = (n: number | undefined, key: (t: Date) => string, name: string) => {
    if (!n) return;
    const seen = new Set<string>();
    for (const m of list) {
      const k = key(new Date(m.createdAt));
      if (seen.has(k)) continue;
      if (seen.size >= n) break;
      seen.add(k);
      mark(m, name);
    }
  };
  buckets(r.daily, day, 'daily');
  buckets(r.weekly, week, 'weekly');
  buckets(r.monthly, month, 'monthly');
  if (r.maxAgeMs !== undefined) {
    for (const m of list) if (now - Date.parse(m.createdAt) > r.maxAgeMs) why.delete(m.id);
  }
  const protectedOne = list.find((m) => m.verifiedAt) ?? list[0];
  if (protectedOne) mark(protectedOne, protectedOne.verifiedAt ? 'newest verified' : 'newest (none verified)');
  const plan: PrunePlan = {
    volume,
    keep: list.filter((m) => why.has(m.id)).map((m) => ({ m, why: why.get(m.id)! })),
    drop: list.filter((m) => !why.has(m.id)),
  };
  const [newest, before] = list;
  if (newest && before && before.rawSize > 0 && newest.rawSize < before.rawSize * shrinkRatio) {
    plan.held = `the newest backup of ${volume} (${newest.id}, ${newest.rawSize} bytes, ${newest.entries} entries) is less than ${Math.round(shrinkRatio * 100)}% of the one before (${before.id}, ${before.rawSize} bytes): pruning is held until someone checks the volume`;
  }
  if (plan.held) {
    plan.keep = list.map((m) => ({ m, why: why.get(m.id) ?? ['held'] }));
    plan.drop = [];
  }
  return plan;
}
