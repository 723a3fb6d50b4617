import { z } from 'zod';
import type { Readable } from 'node:stream';
import { defineCommand } from '../define.js';
import { notFoundOr } from '../../errors.js';
import { safeArtifactName, type Feed } from '../../artifacts/store.js';
import { rawOpen } from '../../docker/raw-get.js';

export const ContainerExportSpec = z.object({
  kind: z.literal('container.export'),
  container: z.string().min(1),
  output: z.string(),
});
export type ContainerExportSpec = z.infer<typeof ContainerExportSpec>;

/** A container's filesystem as a tar, streamed into an artifact. */
export const containerExport = defineCommand({
  path: ['container', 'export'],
  aliases: [['export']],
  usage: '[OPTIONS] CONTAINER',
  summary: "Export a container's filesystem as a tar archive",
  args: { min: 1, max: 1 },
  flags: [{ name: 'output', short: 'o', type: 'string', valueName: 'string', help: 'Write to a file (an artifact to download), instead of STDOUT' }],
  spec: ContainerExportSpec,
  toSpec(p) {
    const c = p.args[0];
    return { kind: 'container.export' as const, container: c, output: safeArtifactName((p.flags.output as string) || `${c.replace(/[^A-Za-z0-9._-]+/g, '-')}.tar`) };
  },
  async run(spec, ctx) {
    let source: Readable | Feed;
    try {
      const c = ctx.docker.getContainer(spec.container);
      // Off the engine's socket when it is a plain one (docker/raw-get.ts): no stream, no copy.
      const raw = rawOpen(c, `/containers/${encodeURIComponent(spec.container)}/export`, ctx.signal);
      if (raw) source = await raw;
      else source = (await c.export({ abortSignal: ctx.signal } as {})) as unknown as Readable;
    } catch (err) {
      throw notFoundOr(err, 'container', spec.container);
    }
    const artifact = await ctx.artifacts.write(spec.output, source, ctx.jobId, (a) => ctx.progress({ artifact: a }));
    return { exitCode: 0, stdout: '', stderr: '', streamed: false, truncated: false, artifacts: [artifact], data: { artifact } };
  },
});
