import { z } from 'zod';
import { defineCommand } from '../define.js';
import { UsageError } from '../../errors.js';
import { COMPRESSIONS } from '../../backup/compress.js';
import { backupLine, backupVolume } from '../../backup/backup.js';
import { verifyBackup } from '../../backup/verify.js';
import { containerVolumes } from '../../backup/volumes.js';
import type { Manifest } from '../../backup/target.js';
import { checkVolumeName } from '../backup/common.js';

export const VolumeBackupSpec = z.object({
  kind: z.literal('volume.backup'),
  volumes: z.array(z.string()),
  volumesFrom: z.string().optional(),
  compression: z.enum(COMPRESSIONS).optional(),
  level: z.number().int().optional(),
  to: z.string().optional(),
  stop: z.boolean(),
  tag: z.string().optional(),
  verify: z.boolean(),
});
export type VolumeBackupSpec = z.infer<typeof VolumeBackupSpec>;

/**
 * Backs volumes up as plain tar(.gz|.zst) archives with a manifest, streamed from the Engine's archive
 * API (the seed's `docker run --volumes-from dbdata -v $(pwd):/backup ubuntu tar cvf …`, without a
 * container run or a temporary file).
 */
export const volumeBackup = defineCommand({
  path: ['volume', 'backup'],
  usage: '[OPTIONS] [VOLUME...]',
  summary: 'Back up volumes to a backup target (streamed, with a manifest)',
  args: { min: 0 },
  flags: [
    { name: 'volumes-from', type: 'string', valueName: 'container', help: 'Back up every volume of a container' },
    { name: 'compress', type: 'string', valueName: 'string', help: 'Compression: zstd, gzip or none (default DOCKOPS_BACKUP_COMPRESS, zstd)' },
    { name: 'level', type: 'int', valueName: 'int', help: 'Compression level (gzip 1-9, zstd 1-19)' },
    { name: 'to', type: 'string', valueName: 'target', help: 'Backup target by name (default: the first of DOCKOPS_BACKUP_TARGETS)' },
    { name: 'stop', type: 'bool', help: 'Stop the running containers using the volume for the archive step (started again afterwards)' },
    { name: 'tag', type: 'string', valueName: 'string', help: 'A note kept in the manifest (shown by backup ls)' },
    { name: 'verify', type: 'bool', help: 'Verify each backup after making it (restore to a scratch volume and compare)' },
  ],
  spec: VolumeBackupSpec,
  toSpec(p) {
    const from = (p.flags['volumes-from'] as string) || undefined;
    if (!p.args.length && !from) throw new UsageError('"docker volume backup" requires at least 1 argument or --volumes-from.\nSee \'docker volume backup --help\'.', 125);
    const compress = (p.flags.compress as string) || undefined;
    if (compress && !(COMPRESSIONS as readonly string[]).includes(compress)) throw new UsageError(`invalid argument "${compress}" for "--compress" flag: use zstd, gzip or none`, 125);
    const level = p.given.has('level') ? (p.flags.level as number) : undefined;
    if (level !== undefined && (level < 1 || level > (compress === 'gzip' ? 9 : 19))) throw new UsageError(`invalid argument "${level}" for "--level" flag: gzip takes 1-9, zstd 1-19`, 125);
    const tag = (p.flags.tag as string) || undefined;
    if (tag && !/^[\w.:+-]{1,64}$/.test(tag)) throw new UsageError(`invalid tag "${tag}": letters, digits and . _ : + - (up to 64)`, 125);
    return {
      kind: 'volume.backup' as const,
      volumes: p.args.map(checkVolumeName),
      volumesFrom: from,
      compression: compress as VolumeBackupSpec['compression'],
      level,
      to: (p.flags.to as string) || undefined,
      stop: p.flags.stop as boolean,
      tag,
      verify: p.flags.verify as boolean,
    };
  },
  async run(spec, ctx) {
    const target = ctx.backups.get(spec.to);
    const volumes = [...spec.volumes];
    if (spec.volumesFrom) {
      const mounts = await containerVolumes(ctx.docker, spec.volumesFrom);
      if (!mounts.length) throw new UsageError(`container ${spec.volumesFrom} has no volumes to back up`, 1);
      for (const m of mounts) if (!volumes.includes(m.name)) volumes.push(m.name);
    }
    const settings = ctx.backups.settings;
    const compression = spec.compression ?? settings.compression;
    const made: Manifest[] = [];
    const errors: string[] = [];
    for (const volume of volumes) {
      try {
        const m = await backupVolume(ctx, target, volume, {
          compression,
          level: spec.level ?? (compression === settings.compression ? settings.level : undefined),
          stop: spec.stop,
          tag: spec.tag,
          container: spec.volumesFrom,
        });
        ctx.output('stdout', backupLine(m, target));
        made.push(m);
        if (spec.verify) {
          const v = await verifyBackup(ctx, target, m);
          ctx.output('stdout', `${m.id}  verified: ${v.entries} entries match\n`);
          made[made.length - 1] = v.manifest;
        }
      } catch (err) {
        if (ctx.signal.aborted || (err as { code?: string }).code === 'unavailable') throw err;
        errors.push((err as Error).message);
      }
    }
    return {
      exitCode: errors.length ? 1 : 0,
      stdout: '',
      stderr: errors.map((e) => `${e}\n`).join(''),
      streamed: true,
      truncated: false,
      data: { backups: made, target: target.name, errors },
    };
  },
});
