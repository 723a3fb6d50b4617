import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { toDockerError } from '../../errors.js';

export const ContainerDiffSpec = z.object({
  kind: z.literal('container.diff'),
  container: z.string().min(1),
});
export type ContainerDiffSpec = z.infer<typeof ContainerDiffSpec>;

const KINDS = ['C', 'A', 'D'];

export const containerDiff = defineCommand({
  path: ['container', 'diff'],
  aliases: [['diff']],
  usage: 'CONTAINER',
  summary: "Inspect changes to files or directories on a container's filesystem",
  args: { min: 1, max: 1 },
  flags: [],
  spec: ContainerDiffSpec,
  toSpec(p) {
    return { kind: 'container.diff' as const, container: p.args[0] };
  },
  async run(spec, ctx) {
    let changes: Array<{ Kind: number; Path: string }> | null;
    try {
      changes = (await ctx.docker.getContainer(spec.container).changes({ abortSignal: ctx.signal } as {})) as Array<{ Kind: number; Path: string }> | null;
    } catch (err) {
      throw toDockerError(err);
    }
    const lines = (changes ?? []).map((c) => `${KINDS[c.Kind] ?? '?'} ${c.Path}\n`);
    return ok(lines.join(''), changes ?? []);
  },
});
