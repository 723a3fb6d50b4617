import { z } from 'zod';
import { removeEach } from '../each.js';
import { defineCommand } from '../define.js';

export const VolumeRmSpec = z.object({
  kind: z.literal('volume.rm'),
  volumes: z.array(z.string()).min(1),
  force: z.boolean(),
});
export type VolumeRmSpec = z.infer<typeof VolumeRmSpec>;

export const volumeRm = defineCommand({
  path: ['volume', 'rm'],
  aliases: [['volume', 'remove']],
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  summary: 'Remove one or more volumes. You cannot remove a volume that is in use by a container.',
  args: { min: 1 },
  destructive: true,
  flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Force the removal of one or more volumes' }],
  spec: VolumeRmSpec,
  toSpec: (p) => ({ kind: 'volume.rm' as const, volumes: p.args, force: p.flags.force as boolean }),
  run: (spec, ctx) => removeEach(spec.volumes, 'volume', (name) => ctx.docker.getVolume(name).remove({ force: spec.force, abortSignal: ctx.signal } as {})),
});
