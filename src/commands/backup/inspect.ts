import { z } from 'zod';
import { defineCommand } from '../define.js';
import { inspectOutput, type Inspected } from '../../render/inspect-output.js';
import { checkBackupId, findBackup } from './common.js';

export const BackupInspectSpec = z.object({
  kind: z.literal('backup.inspect'),
  ids: z.array(z.string()).min(1),
  format: z.string().optional(),
});
export type BackupInspectSpec = z.infer<typeof BackupInspectSpec>;

/** A backup's manifest (volume, host, time, size, sha256, entries, compression, version) as JSON. */
export const backupInspect = defineCommand({
  path: ['backup', 'inspect'],
  usage: '[OPTIONS] BACKUP [BACKUP...]',
  summary: 'Display the manifest of one or more backups',
  args: { min: 1 },
  flags: [{ name: 'format', short: 'f', type: 'string', valueName: 'string', help: 'Format the output using the given Go template' }],
  spec: BackupInspectSpec,
  toSpec: (p) => ({ kind: 'backup.inspect' as const, ids: p.args.map(checkBackupId), format: (p.flags.format as string) || undefined }),
  async run(spec, ctx) {
    const items: Inspected[] = [];
    for (const id of spec.ids) {
      try {
        const { target, m } = await findBackup(ctx, id);
        items.push({ value: { ...m, Target: target.name, Location: `${target.where}/${m.volume}/${m.file}` } });
      } catch (err) {
        items.push({ error: `Error: ${(err as Error).message}` });
      }
    }
    return inspectOutput(items, { format: spec.format, htmlEscape: true });
  },
});
