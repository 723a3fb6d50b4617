import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { DockerError, toDockerError } from '../../errors.js';

export const ContainerRenameSpec = z.object({
  kind: z.literal('container.rename'),
  container: z.string(),
  newName: z.string(),
});
export type ContainerRenameSpec = z.infer<typeof ContainerRenameSpec>;

export const containerRename = defineCommand({
  path: ['container', 'rename'],
  aliases: [['rename']],
  usage: 'CONTAINER NEW_NAME',
  summary: 'Rename a container',
  args: { min: 2, max: 2 },
  flags: [],
  spec: ContainerRenameSpec,
  toSpec(p) {
    return { kind: 'container.rename' as const, container: p.args[0], newName: p.args[1] };
  },
  async run(spec, ctx) {
    const oldName = spec.container.trim();
    const newName = spec.newName.trim();
    if (!oldName || !newName) throw new DockerError('Error: Neither old nor new names may be empty', 1);
    try {
      await ctx.docker.getContainer(oldName).rename({ name: newName, abortSignal: ctx.signal } as {});
    } catch (err) {
      const e = toDockerError(err);
      if (!(e instanceof DockerError)) throw e;
      throw new DockerError(`${e.message}\nError: failed to rename container named ${oldName}`, 1, e.statusCode);
    }
    return ok('');
  },
});
