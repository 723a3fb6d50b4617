import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { UsageError, toDockerError } from '../../errors.js';
import { familiarName, isValidRef, parseRef } from '../../docker/refs.js';

export const ContainerCommitSpec = z.object({
  kind: z.literal('container.commit'),
  container: z.string().min(1),
  /** Repository and tag of the new image; absent: an untagged image, as docker makes. */
  repo: z.string().optional(),
  tag: z.string().optional(),
  author: z.string(),
  message: z.string(),
  /** Dockerfile instructions applied to the image's config (CMD, ENV, LABEL…), judged by the engine. */
  changes: z.array(z.string()),
  pause: z.boolean(),
});
export type ContainerCommitSpec = z.infer<typeof ContainerCommitSpec>;

export const containerCommit = defineCommand({
  path: ['container', 'commit'],
  aliases: [['commit']],
  usage: "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
  summary: "Create a new image from a container's changes",
  args: { min: 1, max: 2 },
  flags: [
    { name: 'author', short: 'a', type: 'string', valueName: 'string', help: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', type: 'list', valueName: 'list', help: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', valueName: 'string', help: 'Commit message' },
    { name: 'pause', short: 'p', type: 'bool', default: true, help: 'Pause container during commit (default true)' },
  ],
  spec: ContainerCommitSpec,
  toSpec(p) {
    const [container, reference] = p.args;
    let repo: string | undefined;
    let tag: string | undefined;
    if (reference !== undefined) {
      // reference.ParseNormalizedNamed in the client, before the engine is asked: exit 1.
      if (!isValidRef(reference)) {
        const why = isValidRef(reference.toLowerCase()) ? 'invalid reference format: repository name must be lowercase' : 'invalid reference format';
        throw new UsageError(why, 1);
      }
      const r = parseRef(reference);
      if (r.digest) throw new UsageError('refusing to create a tag with a digest reference', 1);
      repo = familiarName(r);
      tag = r.tag ?? 'latest';
    }
    return {
      kind: 'container.commit' as const,
      container,
      repo,
      tag,
      author: p.flags.author as string,
      message: p.flags.message as string,
      changes: p.flags.change as string[],
      pause: p.flags.pause as boolean,
    };
  },
  async run(spec, ctx) {
    let answer: { Id?: string };
    try {
      answer = (await ctx.docker.getContainer(spec.container).commit({
        repo: spec.repo,
        tag: spec.tag,
        author: spec.author || undefined,
        comment: spec.message || undefined,
        changes: spec.changes.length ? spec.changes : undefined,
        pause: spec.pause,
        abortSignal: ctx.signal,
      } as {})) as { Id?: string };
    } catch (err) {
      throw toDockerError(err);
    }
    return ok(`${answer.Id ?? ''}\n`, { id: answer.Id, repo: spec.repo, tag: spec.tag });
  },
});
