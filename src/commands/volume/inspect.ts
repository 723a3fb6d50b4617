import { z } from 'zod';
import { defineCommand } from '../define.js';
import { inspectOutput, type Inspected } from '../../render/inspect-output.js';
import { notFoundOr } from '../../errors.js';
import { typedVolume } from '../../render/docker-types.js';

export const VolumeInspectSpec = z.object({
  kind: z.literal('volume.inspect'),
  volumes: z.array(z.string()).min(1),
  format: z.string().optional(),
});
export type VolumeInspectSpec = z.infer<typeof VolumeInspectSpec>;

export const volumeInspect = defineCommand({
  path: ['volume', 'inspect'],
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  summary: 'Display detailed information on one or more volumes',
  args: { min: 1 },
  flags: [{ name: 'format', short: 'f', type: 'string', valueName: 'string', help: 'Format the output using the given Go template' }],
  spec: VolumeInspectSpec,
  toSpec: (p) => ({ kind: 'volume.inspect' as const, volumes: p.args, format: (p.flags.format as string) || undefined }),
  async run(spec, ctx) {
    const items: Inspected[] = [];
    for (const name of spec.volumes) {
      try {
        const v = (await ctx.docker.getVolume(name).inspect({ abortSignal: ctx.signal } as {})) as unknown as Record<string, unknown>;
        // `docker volume inspect` has no raw bytes: it marshals and templates types.Volume only
        // (no fallback to the raw JSON, so `{{.Nope}}` says "in type types.Volume").
        const typed = typedVolume(v);
        items.push({ value: typed, typed });
      } catch (err) {
        const e = notFoundOr(err, 'volume', name);
        if (e.code === 'unavailable') throw e;
        items.push({ error: e.message });
      }
    }
    return inspectOutput(items, { format: spec.format, htmlEscape: true });
  },
});
