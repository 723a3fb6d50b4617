import { z } from 'zod';
import { defineCommand } from '../define.js';
import { forEachContainer } from './batch.js';

export const ContainerRestartSpec = z.object({
  kind: z.literal('container.restart'),
  containers: z.array(z.string().min(1)).min(1),
  /** Seconds to wait for the stop before killing; absent: the container's own StopTimeout. */
  time: z.number().int().optional(),
});
export type ContainerRestartSpec = z.infer<typeof ContainerRestartSpec>;

export const containerRestart = defineCommand({
  path: ['container', 'restart'],
  aliases: [['restart']],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Restart one or more containers',
  args: { min: 1 },
  flags: [{ name: 'time', short: 't', type: 'int', default: 10, help: 'Seconds to wait for stop before killing the container' }],
  spec: ContainerRestartSpec,
  toSpec(p) {
    return {
      kind: 'container.restart' as const,
      containers: p.args,
      time: p.given.has('time') ? (p.flags.time as number) : undefined,
    };
  },
  async run(spec, ctx) {
    // docker restarts one after the other.
    const one = async (name: string) => {
      await ctx.docker.getContainer(name).restart({ t: spec.time, abortSignal: ctx.signal } as {});
      return undefined;
    };
    let chain = Promise.resolve<unknown>(undefined);
    return forEachContainer(spec.containers, (name) => {
      const p = chain.then(() => one(name));
      chain = p.catch(() => undefined);
      return p;
    });
  },
});
