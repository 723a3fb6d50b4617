import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { stringsFlag } from '../kv.js';
import { toDockerError } from '../../errors.js';

export const NetworkConnectSpec = z.object({
  kind: z.literal('network.connect'),
  network: z.string(),
  container: z.string(),
  aliases: z.array(z.string()),
  ip: z.string().optional(),
});
export type NetworkConnectSpec = z.infer<typeof NetworkConnectSpec>;

export const networkConnect = defineCommand({
  path: ['network', 'connect'],
  usage: '[OPTIONS] NETWORK CONTAINER',
  summary: 'Connect a container to a network',
  args: { min: 2, max: 2 },
  flags: [
    { name: 'alias', type: 'list', valueName: 'strings', help: 'Add network-scoped alias for the container' },
    { name: 'ip', type: 'string', valueName: 'string', help: 'IPv4 address (e.g., 172.30.100.104)' },
  ],
  spec: NetworkConnectSpec,
  toSpec: (p) => ({
    kind: 'network.connect' as const,
    network: p.args[0],
    container: p.args[1],
    aliases: stringsFlag(p.flags.alias as string[]),
    ip: (p.flags.ip as string) || undefined,
  }),
  async run(spec, ctx) {
    try {
      await ctx.docker.getNetwork(spec.network).connect({
        Container: spec.container,
        EndpointConfig: {
          IPAMConfig: spec.ip ? { IPv4Address: spec.ip } : undefined,
          Aliases: spec.aliases,
        },
        abortSignal: ctx.signal,
      } as {});
    } catch (err) {
      // The daemon's words, as docker prints them: "No such container: x", "network x not found".
      throw toDockerError(err);
    }
    return ok('');
  },
});
