import { z } from 'zod';
import type { Readable } from 'node:stream';
import { defineCommand } from '../define.js';
import { notFoundOr, toDockerError } from '../../errors.js';
import { safeArtifactName, type Feed } from '../../artifacts/store.js';
import { rawOpen } from '../../docker/raw-get.js';

export const ImageSaveSpec = z.object({
  kind: z.literal('image.save'),
  images: z.array(z.string().min(1)).min(1),
  /** Name of the tar file the job makes (an artifact; never a path on the server). */
  output: z.string(),
});
export type ImageSaveSpec = z.infer<typeof ImageSaveSpec>;

/**
 * `save` streams the engine's tar of one or more images straight into an artifact (no copy in
 * memory); the CLI door downloads it to the -o path, other doors link to it.
 */
export const imageSave = defineCommand({
  path: ['image', 'save'],
  aliases: [['save']],
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  args: { min: 1 },
  flags: [{ name: 'output', short: 'o', type: 'string', valueName: 'string', help: 'Write to a file (an artifact to download), instead of STDOUT' }],
  spec: ImageSaveSpec,
  toSpec(p) {
    const first = p.args[0].replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '');
    return { kind: 'image.save' as const, images: p.args, output: safeArtifactName((p.flags.output as string) || `${first || 'images'}.tar`) };
  },
  async run(spec, ctx) {
    // Check each image first, so a missing one is docker's "No such image" and not a torn tar.
    for (const name of spec.images) {
      try {
        await ctx.docker.getImage(name).inspect();
      } catch (err) {
        throw notFoundOr(err, 'image', name);
      }
    }
    let source: Readable | Feed;
    try {
      const query = new URLSearchParams();
      for (const name of spec.images) query.append('names', name);
      // Off the engine's socket when it is a plain one (docker/raw-get.ts): no stream, no copy.
      const raw = rawOpen(ctx.docker, `/images/get?${query}`, ctx.signal);
      if (raw) source = await raw;
      else {
        const modem = ctx.docker.modem as unknown as { dial(o: object, cb: (err: unknown, s: Readable) => void): void };
        source = await new Promise<Readable>((resolve, reject) =>
          modem.dial(
            { path: '/images/get?', method: 'GET', options: { names: spec.images }, isStream: true, abortSignal: ctx.signal, statusCodes: { 200: true, 404: 'no such image', 500: 'server error' } },
            (err, s) => (err ? reject(err) : resolve(s)),
          ),
        );
      }
    } catch (err) {
      throw toDockerError(err);
    }
    const artifact = await ctx.artifacts.write(spec.output, source, ctx.jobId, (a) => ctx.progress({ artifact: a }));
    ctx.progress({ action: 'save', bytes: artifact.size, done: true });
    return { exitCode: 0, stdout: '', stderr: '', streamed: false, truncated: false, artifacts: [artifact], data: { artifact } };
  },
});
