import { z } from 'zod';
import { defineCommand } from '../define.js';
import { UsageError, notFoundOr } from '../../errors.js';
import { forEachContainer } from './batch.js';

export const ContainerRmSpec = z.object({
  kind: z.literal('container.rm'),
  containers: z.array(z.string().min(1)).min(1),
  force: z.boolean(),
  volumes: z.boolean(),
});
export type ContainerRmSpec = z.infer<typeof ContainerRmSpec>;

export const containerRm = defineCommand({
  path: ['container', 'rm'],
  aliases: [['rm'], ['container', 'remove']],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Remove one or more containers',
  args: { min: 1 },
  destructive: true,
  flags: [
    { name: 'force', short: 'f', type: 'bool', help: 'Force the removal of a running container (uses SIGKILL)' },
    { name: 'link', short: 'l', type: 'bool', help: 'Remove the specified link (refused: legacy links are not supported)' },
    { name: 'volumes', short: 'v', type: 'bool', help: 'Remove anonymous volumes associated with the container' },
  ],
  spec: ContainerRmSpec,
  toSpec(p) {
    if (p.flags.link) {
      throw new UsageError(`dockops: rm -l (remove a legacy container link) is not supported: links are legacy; use user-defined networks\nSee 'docker rm --help'.`);
    }
    return { kind: 'container.rm' as const, containers: p.args, force: p.flags.force as boolean, volumes: p.flags.volumes as boolean };
  },
  async run(spec, ctx) {
    return forEachContainer(
      spec.containers,
      async (name) => {
        await ctx.docker.getContainer(name).remove({ force: spec.force, v: spec.volumes, abortSignal: ctx.signal } as {});
        return undefined;
      },
      {
        errorText: (err, name) => notFoundOr(err, 'container', name).message,
        // As docker 20.10: with -f a missing container is said on stderr but is not a failure.
        ignore: (err) => spec.force && (err as { statusCode?: number })?.statusCode === 404,
      },
    );
  },
});
