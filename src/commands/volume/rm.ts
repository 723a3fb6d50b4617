import { z } from 'zod';
import { defineCommand } from '../define.js';
import { notFoundOr } from '../../errors.js';

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
  async run(spec, ctx) {
    // As docker: remove each in turn, print the names removed, then every error; exit 1 if any failed.
    let stdout = '';
    const errors: string[] = [];
    for (const name of spec.volumes) {
      try {
        await ctx.docker.getVolume(name).remove({ force: spec.force, abortSignal: ctx.signal } as {});
        stdout += `${name}\n`;
      } catch (err) {
        const e = notFoundOr(err, 'volume', name);
        if (e.code === 'unavailable') throw e;
        errors.push(e.message);
      }
    }
    return {
      exitCode: errors.length ? 1 : 0,
      stdout,
      stderr: errors.map((e) => `${e}\n`).join(''),
      streamed: false,
      truncated: false,
      data: { removed: stdout.split('\n').filter(Boolean), errors },
    };
  },
});
