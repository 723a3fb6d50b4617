import { z } from 'zod';
import { defineCommand } from '../define.js';
import { forEachContainer } from './batch.js';

export const ContainerPauseSpec = z.object({
  kind: z.literal('container.pause'),
  containers: z.array(z.string().min(1)).min(1),
});
export type ContainerPauseSpec = z.infer<typeof ContainerPauseSpec>;

export const containerPause = defineCommand({
  path: ['container', 'pause'],
  aliases: [['pause']],
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Pause all processes within one or more containers',
  args: { min: 1 },
  flags: [],
  spec: ContainerPauseSpec,
  toSpec(p) {
    return { kind: 'container.pause' as const, containers: p.args };
  },
  async run(spec, ctx) {
    return forEachContainer(spec.containers, async (name) => {
      await ctx.docker.getContainer(name).pause({ abortSignal: ctx.signal } as {});
      return undefined;
    });
  },
});
