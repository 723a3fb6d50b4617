import { z } from 'zod';
import { removeEach } from '../each.js';
import { defineCommand } from '../define.js';

export const NetworkRmSpec = z.object({
  kind: z.literal('network.rm'),
  networks: z.array(z.string()).min(1),
});
export type NetworkRmSpec = z.infer<typeof NetworkRmSpec>;

export const networkRm = defineCommand({
  path: ['network', 'rm'],
  aliases: [['network', 'remove']],
  usage: 'NETWORK [NETWORK...]',
  summary: 'Remove one or more networks',
  args: { min: 1 },
  destructive: true,
  flags: [],
  spec: NetworkRmSpec,
  toSpec: (p) => ({ kind: 'network.rm' as const, networks: p.args }),
  run: (spec, ctx) => removeEach(spec.networks, 'network', (name) => ctx.docker.getNetwork(name).remove({ abortSignal: ctx.signal } as {})),
});
