import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { toDockerError } from '../../errors.js';

export const NetworkDisconnectSpec = z.object({
  kind: z.literal('network.disconnect'),
  network: z.string(),
  container: z.string(),
  force: z.boolean(),
});
export type NetworkDisconnectSpec = z.infer<typeof NetworkDisconnectSpec>;

export const networkDisconnect = defineCommand({
  path: ['network', 'disconnect'],
  usage: '[OPTIONS] NETWORK CONTAINER',
  summary: 'Disconnect a container from a network',
  args: { min: 2, max: 2 },
  flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Force the container to disconnect from a network' }],
  spec: NetworkDisconnectSpec,
  toSpec: (p) => ({ kind: 'network.disconnect' as const, network: p.args[0], container: p.args[1], force: p.flags.force as boolean }),
  async run(spec, ctx) {
    try {
      await ctx.docker.getNetwork(spec.network).disconnect({ Container: spec.container, Force: spec.force, abortSignal: ctx.signal } as {});
    } catch (err) {
      throw toDockerError(err);
    }
    return ok('');
  },
});
