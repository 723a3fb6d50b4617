import { z } from 'zod';
import { defineCommand } from '../define.js';
import { UsageError } from '../../errors.js';
import { restoreBackup } from '../../backup/restore.js';
import { checkBackupId, checkVolumeName, findBackup } from '../backup/common.js';

export const VolumeRestoreSpec = z.object({
  kind: z.literal('volume.restore'),
  volume: z.string(),
  from: z.string(),
  into: z.string().optional(),
  force: z.boolean(),
});
export type VolumeRestoreSpec = z.infer<typeof VolumeRestoreSpec>;

/** Restores a backup into its volume (or beside it) so that nothing can get worse: see src/backup/restore.ts. */
export const volumeRestore = defineCommand({
  path: ['volume', 'restore'],
  usage: '[OPTIONS] VOLUME --from BACKUP',
  summary: 'Restore a volume from a backup (checked, unpacked aside, then swapped in)',
  args: { min: 1, max: 1 },
  destructive: true,
  flags: [
    { name: 'from', type: 'string', valueName: 'backup', help: 'The backup ID (see backup ls), or "latest" for the volume\'s newest' },
    { name: 'into', type: 'string', valueName: 'volume', help: 'Restore into a new volume beside the original' },
    { name: 'force', short: 'f', type: 'bool', help: 'Replace the content of a volume that is not empty (it is backed up first)' },
  ],
  spec: VolumeRestoreSpec,
  toSpec(p) {
    const from = p.flags.from as string;
    if (!from) throw new UsageError('"docker volume restore" requires --from BACKUP (a backup ID from backup ls, or latest).\nSee \'docker volume restore --help\'.', 125);
    const into = (p.flags.into as string) || undefined;
    return { kind: 'volume.restore' as const, volume: checkVolumeName(p.args[0]!), from: checkBackupId(from), into: into && checkVolumeName(into), force: p.flags.force as boolean };
  },
  async run(spec, ctx) {
    const { target, m } = await findBackup(ctx, spec.from, spec.volume);
    const r = await restoreBackup(ctx, target, m, { volume: spec.volume, into: spec.into, force: spec.force, restoreImage: ctx.backups.settings.restoreImage });
    const lines = [`restored ${m.id} (${m.volume}, ${m.entries} entries, ${m.createdAt}) into ${r.created ? 'new volume ' : ''}${r.volume}`];
    if (r.safety) lines.push(`its previous content is backup ${r.safety.id}`);
    if (r.stopped.length) lines.push(`stopped and started again: ${r.stopped.join(', ')}`);
    return { exitCode: 0, stdout: lines.map((l) => `${l}\n`).join(''), stderr: '', streamed: false, truncated: false, data: { restored: m.id, volume: r.volume, created: r.created, safety: r.safety?.id, stopped: r.stopped } };
  },
});
