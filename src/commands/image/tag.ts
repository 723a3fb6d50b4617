import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { UsageError, toDockerError } from '../../errors.js';
import { familiarName, isValidRef, parseRef } from '../../docker/refs.js';

export const ImageTagSpec = z.object({
  kind: z.literal('image.tag'),
  source: z.string().min(1),
  target: z.string().min(1),
});
export type ImageTagSpec = z.infer<typeof ImageTagSpec>;

/**
 * The docker client's check of a reference before it calls the engine (reference.ParseNormalizedNamed),
 * worded as `docker tag` words it: `Error parsing reference: "X" is not a valid repository/tag: …`.
 */
export function referenceProblem(ref: string): string | undefined {
  if (isValidRef(ref)) return undefined;
  // A full image id (or sha256:id) is a valid source too.
  if (/^(sha256:)?[a-f0-9]{64}$/.test(ref)) return undefined;
  const why = isValidRef(ref.toLowerCase()) ? 'invalid reference format: repository name must be lowercase' : 'invalid reference format';
  return `Error parsing reference: "${ref}" is not a valid repository/tag: ${why}`;
}

export const imageTag = defineCommand({
  path: ['image', 'tag'],
  aliases: [['tag']],
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  args: { min: 2, max: 2 },
  flags: [],
  spec: ImageTagSpec,
  toSpec(p) {
    const [source, target] = p.args;
    for (const ref of [source, target]) {
      const problem = referenceProblem(ref);
      if (problem) throw new UsageError(problem, 1);
    }
    if (parseRef(target).digest) throw new UsageError('refusing to create a tag with a digest reference', 1);
    return { kind: 'image.tag' as const, source, target };
  },
  async run(spec, ctx) {
    const r = parseRef(spec.target);
    const repo = familiarName(r);
    try {
      await ctx.docker.getImage(spec.source).tag({ repo, tag: r.tag ?? 'latest', abortSignal: ctx.signal } as { repo: string; tag: string });
    } catch (err) {
      throw toDockerError(err);
    }
    return ok('', { source: spec.source, target: `${repo}:${r.tag ?? 'latest'}` });
  },
});
