import { z } from 'zod';
import { defineCommand } from '../define.js';
import { UsageError } from '../../errors.js';
import { parseAge, planPrune, type Retention } from '../../backup/retention.js';
import { STALE_PARTIAL_MS } from '../../backup/backup.js';
import { checkVolumeName, listAll } from './common.js';

export const BackupPruneSpec = z.object({
  kind: z.literal('backup.prune'),
  volumes: z.array(z.string()),
  dryRun: z.boolean(),
  keep: z.object({ last: z.number().int().optional(), daily: z.number().int().optional(), weekly: z.number().int().optional(), monthly: z.number().int().optional(), maxAgeMs: z.number().int().optional() }).optional(),
});
export type BackupPruneSpec = z.infer<typeof BackupPruneSpec>;

/**
 * Applies the retention rules (flags, or DOCKOPS_BACKUP_KEEP) to each volume's backups. It never
 * removes a volume's newest verified backup, never all of them, and holds (and alerts) when the newest
 * backup is much smaller than the one before. Also removes unfinished writes of dead jobs.
 */
export const backupPrune = defineCommand({
  path: ['backup', 'prune'],
  usage: '[OPTIONS] [VOLUME...]',
  summary: 'Remove backups the retention rules do not keep',
  args: { min: 0 },
  destructive: true,
  flags: [
    { name: 'dry-run', type: 'bool', help: 'Show what would be removed, remove nothing' },
    { name: 'keep-last', type: 'int', valueName: 'int', help: 'Keep the newest N backups' },
    { name: 'keep-daily', type: 'int', valueName: 'int', help: 'Keep the newest backup of each of the last N days' },
    { name: 'keep-weekly', type: 'int', valueName: 'int', help: 'Keep the newest backup of each of the last N weeks' },
    { name: 'keep-monthly', type: 'int', valueName: 'int', help: 'Keep the newest backup of each of the last N months' },
    { name: 'max-age', type: 'string', valueName: 'duration', help: 'Remove backups older than this (720h, 90d) whatever the counts say' },
  ],
  spec: BackupPruneSpec,
  toSpec(p) {
    const keep: Retention = {};
    let any = false;
    for (const k of ['last', 'daily', 'weekly', 'monthly'] as const) {
      if (!p.given.has(`keep-${k}`)) continue;
      const n = p.flags[`keep-${k}`] as number;
      if (n < 0) throw new UsageError(`invalid argument "${n}" for "--keep-${k}" flag: must be 0 or more`, 125);
      keep[k] = n;
      any = true;
    }
    if (p.flags['max-age']) {
      const ms = parseAge(p.flags['max-age'] as string);
      if (ms === undefined || ms <= 0) throw new UsageError(`invalid argument "${String(p.flags['max-age'])}" for "--max-age" flag: a duration such as 720h or 90d`, 125);
      keep.maxAgeMs = ms;
      any = true;
    }
    return { kind: 'backup.prune' as const, volumes: p.args.map(checkVolumeName), dryRun: p.flags['dry-run'] as boolean, keep: any ? keep : undefined };
  },
  async run(spec, ctx) {
    const settings = ctx.backups.settings;
    const rules = spec.keep ?? settings.retention;
    const now = ctx.now();
    const out: string[] = [];
    const alerts: string[] = [];
    const removed: string[] = [];
    const would: string[] = [];
    const { lists, errors } = await listAll(ctx);
    for (const { target, manifests: all } of lists) {
      if (!spec.dryRun) {
        for (const k of await target.sweep(now, STALE_PARTIAL_MS)) out.push(`removed unfinished ${target.name}:${k}`);
      }
      const volumes = spec.volumes.length ? spec.volumes : [...new Set(all.map((m) => m.volume))];
      for (const volume of volumes) {
        const plan = planPrune(volume, all.filter((m) => m.volume === volume), rules, now, settings.shrinkRatio);
        if (plan.held) {
          alerts.push(`${target.name}: ${plan.held}`);
          continue;
        }
        for (const m of plan.drop) {
          if (spec.dryRun) {
            would.push(m.id);
            out.push(`would remove ${m.id} (${volume}, ${m.createdAt})`);
          } else {
            await target.remove(m);
            removed.push(m.id);
            out.push(`removed ${m.id} (${volume}, ${m.createdAt})`);
          }
        }
        out.push(`${target.name}:${volume}: ${plan.keep.length} kept (${plan.keep.map((k) => `${k.m.id}: ${k.why.join('+')}`).join(', ') || 'none'})`);
      }
    }
    return {
      exitCode: alerts.length || errors.length ? 1 : 0,
      stdout: out.map((l) => `${l}\n`).join(''),
      stderr: [...alerts.map((a) => `ALERT: ${a}`), ...errors].map((l) => `${l}\n`).join(''),
      streamed: false,
      truncated: false,
      data: { removed, would, alerts },
    };
  },
});
