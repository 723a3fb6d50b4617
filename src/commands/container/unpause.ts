import { z } from 'zod';
import { defineCommand } from '../define.js';
import { forEachContainer } from './batch.js';

export const ContainerUnpauseSpec = z.object({
  kind: z.literal('container.unpause'),
  containers: z.array(z.string().min(1)).min(1),
});
export type ContainerUnpauseSpec = z.infer<typeof ContainerUnpauseSpec>;

export const containerUnpause = defineCommand({
  path: ['container', 'unpause'],
  aliases: [['unpause']],
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Unpause all processes within one or more containers',
  args: { min: 1 },
  flags: [],
  spec: ContainerUnpauseSpec,
  toSpec(p) {
    return { kind: 'container.unpause' as const, containers: p.args };
  },
  async run(spec, ctx) {
    return forEachContainer(spec.containers, async (name) => {
      await ctx.docker.getContainer(name).unpause({ abortSignal: ctx.signal } as {});
      return undefined;
    });
  },
});
