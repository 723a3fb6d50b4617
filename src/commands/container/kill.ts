import { z } from 'zod';
import { defineCommand } from '../define.js';
import { forEachContainer } from './batch.js';

export const ContainerKillSpec = z.object({
  kind: z.literal('container.kill'),
  containers: z.array(z.string().min(1)).min(1),
  signal: z.string().min(1),
});
export type ContainerKillSpec = z.infer<typeof ContainerKillSpec>;

export const containerKill = defineCommand({
  path: ['container', 'kill'],
  aliases: [['kill']],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Kill one or more running containers',
  args: { min: 1 },
  destructive: true,
  flags: [{ name: 'signal', short: 's', type: 'string', valueName: 'string', default: 'KILL', help: 'Signal to send to the container' }],
  spec: ContainerKillSpec,
  toSpec(p) {
    return { kind: 'container.kill' as const, containers: p.args, signal: (p.flags.signal as string) || 'KILL' };
  },
  async run(spec, ctx) {
    return forEachContainer(spec.containers, async (name) => {
      await ctx.docker.getContainer(name).kill({ signal: spec.signal, abortSignal: ctx.signal } as {});
      return undefined;
    });
  },
});
