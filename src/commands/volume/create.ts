import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { kvMap } from '../kv.js';
import { toDockerError, UsageError } from '../../errors.js';

export const VolumeCreateSpec = z.object({
  kind: z.literal('volume.create'),
  /** Empty: the engine names the volume (a 64-hex anonymous name). */
  name: z.string(),
  driver: z.string(),
  options: z.record(z.string(), z.string()),
  labels: z.record(z.string(), z.string()),
});
export type VolumeCreateSpec = z.infer<typeof VolumeCreateSpec>;

export const volumeCreate = defineCommand({
  path: ['volume', 'create'],
  usage: '[OPTIONS] [VOLUME]',
  summary: 'Create a volume',
  args: { min: 0, max: 1 },
  flags: [
    { name: 'driver', short: 'd', type: 'string', valueName: 'string', default: 'local', help: 'Specify volume driver name' },
    { name: 'label', type: 'list', valueName: 'list', help: 'Set metadata for a volume' },
    { name: 'name', type: 'string', valueName: 'string', help: 'Specify volume name', hidden: true },
    { name: 'opt', short: 'o', type: 'list', valueName: 'map', help: 'Set driver specific options (default map[])' },
  ],
  spec: VolumeCreateSpec,
  toSpec(p) {
    const flagName = p.flags.name as string;
    if (flagName && p.args.length > 0) throw new UsageError('conflicting options: either specify --name or provide positional arg, not both', 1);
    return {
      kind: 'volume.create' as const,
      name: p.args[0] ?? flagName,
      driver: p.flags.driver as string,
      options: kvMap(p.flags.opt as string[]),
      labels: kvMap(p.flags.label as string[]),
    };
  },
  async run(spec, ctx) {
    let name: string;
    try {
      // dockerode answers with a Volume handle named as the engine named it.
      const vol = await ctx.docker.createVolume({
        Name: spec.name,
        Driver: spec.driver,
        DriverOpts: spec.options,
        Labels: spec.labels,
        abortSignal: ctx.signal,
      } as {});
      name = vol.name;
    } catch (err) {
      throw toDockerError(err);
    }
    return ok(`${name}\n`, { name });
  },
});
