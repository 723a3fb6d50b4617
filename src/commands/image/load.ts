import { z } from 'zod';
import type { Readable } from 'node:stream';
import { defineCommand } from '../define.js';
import { DockerError, UsageError, toDockerError } from '../../errors.js';
import { ARTIFACT_REF } from '../../artifacts/store.js';
import { readJsonMessages } from '../../docker/streams.js';

export const ImageLoadSpec = z.object({
  kind: z.literal('image.load'),
  /** The uploaded tar to load: an artifact id. */
  artifact: z.string().regex(/^[0-9a-f]{24}$/),
  quiet: z.boolean(),
});
export type ImageLoadSpec = z.infer<typeof ImageLoadSpec>;

export const imageLoad = defineCommand({
  path: ['image', 'load'],
  aliases: [['load']],
  usage: '[OPTIONS]',
  summary: 'Load an image from a tar archive or STDIN',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'input', short: 'i', type: 'string', valueName: 'string', help: 'Read from an uploaded tar archive (artifact:ID; the CLI uploads a local file for you)' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the load output' },
  ],
  spec: ImageLoadSpec,
  toSpec(p) {
    const input = p.flags.input as string;
    const m = ARTIFACT_REF.exec(input);
    if (!m) {
      throw new UsageError(
        input
          ? `-i ${input}: dockops loads uploaded files only: upload it (POST /api/artifacts, or \`dockops docker load -i FILE\` which does it for you) and give -i artifact:ID`
          : 'requested load from stdin, but dockops has no stdin here: give -i artifact:ID (the CLI uploads `-i FILE` or its stdin for you)',
        1,
      );
    }
    return { kind: 'image.load' as const, artifact: m[1], quiet: p.flags.quiet as boolean };
  },
  async run(spec, ctx) {
    const input = await ctx.artifacts.stream(spec.artifact, ctx.signal);
    let out: Readable;
    try {
      out = (await ctx.docker.loadImage(input, { quiet: spec.quiet, abortSignal: ctx.signal } as {})) as unknown as Readable;
    } catch (err) {
      throw toDockerError(err);
    }
    let failure: string | undefined;
    const loaded: string[] = [];
    await readJsonMessages(
      out,
      (m) => {
        if (m.error) failure = m.errorDetail?.message ?? m.error;
        else if (m.stream) {
          const line = /Loaded image(?: ID)?: (\S+)/.exec(m.stream);
          if (line) loaded.push(line[1]);
          ctx.output('stdout', m.stream);
        }
      },
      ctx.signal,
    );
    if (failure) throw new DockerError(failure, 1);
    return { exitCode: 0, stdout: '', stderr: '', streamed: true, truncated: false, data: { loaded } };
  },
});
