import { z } from 'zod';
import { defineCommand } from '../define.js';
import { UsageError } from '../../errors.js';
import { checkBackupId, findBackup } from './common.js';

export const BackupRmSpec = z.object({ kind: z.literal('backup.rm'), ids: z.array(z.string()).min(1) });
export type BackupRmSpec = z.infer<typeof BackupRmSpec>;

/** Removes backups: each manifest first (so it stops being valid), then its archive. */
export const backupRm = defineCommand({
  path: ['backup', 'rm'],
  aliases: [['backup', 'remove']],
  usage: 'BACKUP [BACKUP...]',
  summary: 'Remove one or more backups',
  args: { min: 1 },
  destructive: true,
  flags: [],
  spec: BackupRmSpec,
  toSpec(p) {
    // Removal names what it removes: "latest" would mean something else a minute later.
    if (p.args.includes('latest')) throw new UsageError('backup rm takes backup IDs, not "latest" (see backup ls)', 1);
    return { kind: 'backup.rm' as const, ids: p.args.map(checkBackupId) };
  },
  async run(spec, ctx) {
    const removed: string[] = [];
    const errors: string[] = [];
    for (const id of spec.ids) {
      try {
        const { target, m } = await findBackup(ctx, id);
        await target.remove(m);
        removed.push(m.id);
      } catch (err) {
        errors.push(`Error: ${(err as Error).message}`);
      }
    }
    return { exitCode: errors.length ? 1 : 0, stdout: removed.map((r) => `${r}\n`).join(''), stderr: errors.map((e) => `${e}\n`).join(''), streamed: false, truncated: false, data: { removed, errors } };
  },
});
