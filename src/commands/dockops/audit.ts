import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { formatRows } from '../../render/table.js';
import { ellipsis } from '../../render/units.js';
import { UsageError } from '../../errors.js';
import type { AuditRow } from '../../ops/audit.js';

const DOORS = ['api', 'cli', 'slack', 'github', 'schedule'] as const;

export const AuditSpec = z.object({
  kind: z.literal('audit'),
  limit: z.number().int().min(1).max(1000),
  user: z.string().optional(),
  door: z.enum(DOORS).optional(),
  noTrunc: z.boolean(),
  format: z.string().optional(),
});
export type AuditSpec = z.infer<typeof AuditSpec>;

const DEFAULT = 'table {{.Time}}\t{{.Door}}\t{{.Who}}\t{{.Where}}\t{{.Outcome}}\t{{.Job}}\t{{.Command}}';
const HEADERS = {
  Time: 'TIME',
  Door: 'DOOR',
  Who: 'WHO',
  Where: 'WHERE',
  Host: 'HOST',
  Job: 'JOB',
  Command: 'COMMAND',
  Outcome: 'OUTCOME',
  ExitCode: 'EXIT CODE',
  Duration: 'DURATION',
  Reason: 'REASON',
};

/** Entries read per page while filtering, and how far back a filtered search looks at most. */
const PAGE = 500;
const SCAN_MAX = 20_000;

/** `<@U0123|alice>` (how Slack may send a mention) and `U0123` are the same person. */
function userKey(s: string): string {
  return s.replace(/^<@([^|>]+)(\|[^>]*)?>$/, '$1').toLowerCase();
}

function matches(row: AuditRow, spec: AuditSpec): boolean {
  if (spec.door && row.door !== spec.door) return false;
  if (spec.user) {
    const want = userKey(spec.user);
    const who = String(row.who ?? '').toLowerCase();
    // A CLI entry's who is TOKEN/USER: either half names it.
    if (who !== want && !who.split('/').includes(want)) return false;
  }
  return true;
}

function outcome(r: AuditRow): string {
  if (r.outcome === 'refused') return `refused: ${String(r.reason ?? '').replace(/^refused by policy: /, '')}`.trim();
  if (r.outcome === 'failed') return `failed: ${r.reason ?? 'unknown'}`;
  const took = typeof r.ms === 'number' ? ` in ${(r.ms / 1000).toFixed(1)}s` : '';
  return `exit ${r.exitCode ?? '?'}${took}`;
}

/**
 * dockops's own verb: who ran what, where and how it ended, newest first, from the capped audit
 * stream every door writes to. Not a docker command; needs the admin role (roles.ts gives every
 * kind it does not list to admins). Commands are shown with their secrets masked (ops/audit.ts).
 */
export const audit = defineCommand({
  path: ['audit'],
  usage: '[OPTIONS]',
  summary: 'Show who ran what through dockops (admins only)',
  args: { min: 0, max: 0 },
  private: true,
  flags: [
    { name: 'limit', short: 'n', type: 'int', default: 20, help: 'Show the n newest entries (at most 1000)' },
    { name: 'user', short: 'u', type: 'string', valueName: 'string', help: 'Only entries of this person: Slack user ID, token name or CLI user' },
    { name: 'door', type: 'string', valueName: 'string', help: `Only entries that came through this door (${DOORS.join(', ')})` },
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { name: 'format', type: 'string', valueName: 'string', help: 'Format output using a custom template (.Time .Door .Who .Where .Host .Job .Command .Outcome .ExitCode .Duration .Reason)' },
  ],
  spec: AuditSpec,
  toSpec(p) {
    const limit = p.flags.limit as number;
    if (limit < 1 || limit > 1000) throw new UsageError(`invalid argument "${limit}" for "-n, --limit" flag: must be between 1 and 1000\nSee 'docker audit --help'.`);
    const door = (p.flags.door as string) || undefined;
    if (door && !(DOORS as readonly string[]).includes(door)) {
      throw new UsageError(`invalid argument "${door}" for "--door" flag: must be one of ${DOORS.join(', ')}\nSee 'docker audit --help'.`);
    }
    return {
      kind: 'audit' as const,
      limit,
      user: (p.flags.user as string) || undefined,
      door: door as AuditSpec['door'],
      noTrunc: p.flags['no-trunc'] as boolean,
      format: (p.flags.format as string) || undefined,
    };
  },
  async run(spec, ctx) {
    const found: AuditRow[] = [];
    let before: string | undefined;
    for (let scanned = 0; found.length < spec.limit && scanned < SCAN_MAX; ) {
      const filtered = Boolean(spec.user || spec.door);
      const page = await ctx.readAudit(filtered ? PAGE : spec.limit, before);
      for (const r of page) if (matches(r, spec) && found.length < spec.limit) found.push(r);
      if (page.length === 0 || !filtered) break;
      scanned += page.length;
      before = page[page.length - 1].id;
    }
    const cut = (s: string, n: number) => (spec.noTrunc ? s : ellipsis(s, n));
    const rows = found.map((r) => ({
      Time: r.at.replace(/\.\d+Z$/, 'Z'),
      Door: String(r.door ?? ''),
      Who: String(r.who ?? ''),
      Where: String(r.where ?? ''),
      Host: String(r.host ?? ''),
      Job: String(r.jobId ?? ''),
      Command: cut(String(r.command ?? ''), 60),
      Outcome: cut(outcome(r), 60),
      ExitCode: r.exitCode ?? '',
      Duration: typeof r.ms === 'number' ? `${(r.ms / 1000).toFixed(1)}s` : '',
      Reason: String(r.reason ?? ''),
    }));
    return ok(formatRows(rows, { format: spec.format, defaultFormat: DEFAULT, headers: HEADERS }), { entries: found });
  },
});
