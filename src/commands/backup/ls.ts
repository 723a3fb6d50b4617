import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { formatRows } from '../../render/table.js';
import { humanDuration, humanSize } from '../../render/units.js';
import { checkVolumeName, listAll } from './common.js';

export const BackupLsSpec = z.object({
  kind: z.literal('backup.ls'),
  volume: z.string().optional(),
  quiet: z.boolean(),
  format: z.string().optional(),
});
export type BackupLsSpec = z.infer<typeof BackupLsSpec>;

const DEFAULT = 'table {{.ID}}\t{{.Volume}}\t{{.Created}}\t{{.Size}}\t{{.Entries}}\t{{.Compression}}\t{{.Target}}\t{{.Verified}}\t{{.Tag}}';
const HEADERS = { ID: 'BACKUP ID', Volume: 'VOLUME', Created: 'CREATED', Size: 'SIZE', Entries: 'ENTRIES', Compression: 'COMPRESSION', Target: 'TARGET', Verified: 'VERIFIED', Tag: 'TAG', Sha256: 'SHA256', Host: 'HOST', Encryption: 'ENCRYPTION' };

/** Every valid backup (manifest and archive present) in every target, newest first. */
export const backupLs = defineCommand({
  path: ['backup', 'ls'],
  aliases: [['backup', 'list'], ['backups']],
  usage: '[OPTIONS] [VOLUME]',
  summary: 'List backups',
  args: { min: 0, max: 1 },
  flags: [
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display backup IDs' },
    { name: 'format', type: 'string', valueName: 'string', help: 'Pretty-print backups using a Go template' },
  ],
  spec: BackupLsSpec,
  toSpec: (p) => ({ kind: 'backup.ls' as const, volume: p.args[0] ? checkVolumeName(p.args[0]) : undefined, quiet: p.flags.quiet as boolean, format: (p.flags.format as string) || undefined }),
  async run(spec, ctx) {
    const now = ctx.now();
    const rows = [];
    const { lists, errors } = await listAll(ctx, spec.volume);
    for (const { target, manifests } of lists) {
      for (const m of manifests) {
        rows.push({
          ID: m.id,
          Volume: m.volume,
          Created: `${humanDuration(now - Date.parse(m.createdAt))} ago`,
          CreatedAt: m.createdAt,
          Size: humanSize(m.size),
          Entries: String(m.entries),
          Compression: m.compression,
          Encryption: m.encryption,
          Target: target.name,
          Verified: m.verifiedAt ? `${humanDuration(now - Date.parse(m.verifiedAt))} ago` : 'no',
          Tag: m.tag ?? '',
          Sha256: m.sha256,
          Host: m.host,
        });
      }
    }
    rows.sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt) || b.ID.localeCompare(a.ID));
    const stdout = spec.quiet ? rows.map((r) => `${r.ID}\n`).join('') : formatRows(rows, { format: spec.format, defaultFormat: DEFAULT, headers: HEADERS });
    return { ...ok(stdout, { count: rows.length, errors }), exitCode: errors.length ? 1 : 0, stderr: errors.map((e) => `${e}\n`).join('') };
  },
});
