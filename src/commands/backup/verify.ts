import { z } from 'zod';
import { defineCommand } from '../define.js';
import { verifyBackup } from '../../backup/verify.js';
import { checkBackupId, findBackup } from './common.js';

export const BackupVerifySpec = z.object({ kind: z.literal('backup.verify'), ids: z.array(z.string()).min(1) });
export type BackupVerifySpec = z.infer<typeof BackupVerifySpec>;

/** Restores each backup into a scratch volume and compares every entry with its archive. */
export const backupVerify = defineCommand({
  path: ['backup', 'verify'],
  usage: 'BACKUP [BACKUP...]',
  summary: 'Verify backups: restore into a scratch volume and compare every entry',
  args: { min: 1 },
  flags: [],
  spec: BackupVerifySpec,
  toSpec: (p) => ({ kind: 'backup.verify' as const, ids: p.args.map(checkBackupId) }),
  async run(spec, ctx) {
    const errors: string[] = [];
    const verified: string[] = [];
    for (const id of spec.ids) {
      try {
        const { target, m } = await findBackup(ctx, id);
        const v = await verifyBackup(ctx, target, m);
        ctx.output('stdout', `${m.id}  ${m.volume}: sha256 ok, ${v.entries} entries restored and compared: all match\n`);
        verified.push(m.id);
      } catch (err) {
        if (ctx.signal.aborted || (err as { code?: string }).code === 'unavailable') throw err;
        errors.push((err as Error).message);
      }
    }
    return { exitCode: errors.length ? 1 : 0, stdout: '', stderr: errors.map((e) => `${e}\n`).join(''), streamed: true, truncated: false, data: { verified, errors } };
  },
});
