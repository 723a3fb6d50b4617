import { z } from 'zod';
import { defineCommand } from '../define.js';
import { forEachContainer } from './batch.js';

export const ContainerWaitSpec = z.object({
  kind: z.literal('container.wait'),
  containers: z.array(z.string().min(1)).min(1),
});
export type ContainerWaitSpec = z.infer<typeof ContainerWaitSpec>;

export const containerWait = defineCommand({
  path: ['container', 'wait'],
  aliases: [['wait']],
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Block until one or more containers stop, then print their exit codes',
  args: { min: 1 },
  flags: [],
  spec: ContainerWaitSpec,
  toSpec(p) {
    return { kind: 'container.wait' as const, containers: p.args };
  },
  async run(spec, ctx) {
    return forEachContainer(spec.containers, async (name) => {
      const res = (await ctx.docker.getContainer(name).wait({ condition: 'not-running', abortSignal: ctx.signal } as {})) as { StatusCode: number };
      return String(res.StatusCode);
    });
  },
});
