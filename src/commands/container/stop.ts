import { z } from 'zod';
import { defineCommand } from '../define.js';
import { forEachContainer } from './batch.js';

export const ContainerStopSpec = z.object({
  kind: z.literal('container.stop'),
  containers: z.array(z.string().min(1)).min(1),
  /** Seconds to wait before killing; absent: the container's own StopTimeout (10 s by default). */
  time: z.number().int().optional(),
});
export type ContainerStopSpec = z.infer<typeof ContainerStopSpec>;

export const containerStop = defineCommand({
  path: ['container', 'stop'],
  aliases: [['stop']],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Stop one or more running containers',
  args: { min: 1 },
  destructive: true,
  flags: [{ name: 'time', short: 't', type: 'int', default: 10, help: 'Seconds to wait for stop before killing it' }],
  spec: ContainerStopSpec,
  toSpec(p) {
    return {
      kind: 'container.stop' as const,
      containers: p.args,
      time: p.given.has('time') ? (p.flags.time as number) : undefined,
    };
  },
  async run(spec, ctx) {
    return forEachContainer(spec.containers, async (name) => {
      // 304: already stopped, which docker counts as done.
      await ctx.docker
        .getContainer(name)
        .stop({ t: spec.time, abortSignal: ctx.signal } as {})
        .catch((err: { statusCode?: number }) => {
          if (err?.statusCode !== 304) throw err;
        });
      return undefined;
    });
  },
});
