import { z } from 'zod';
import { defineCommand } from '../define.js';
import { notFoundOr } from '../../errors.js';
import { engineRaw } from '../container/inspect.js';
import { inspectOutput, type Inspected } from '../../render/inspect-output.js';
import { typedImage } from '../../render/docker-types.js';

export const ImageInspectSpec = z.object({
  kind: z.literal('image.inspect'),
  images: z.array(z.string().min(1)).min(1),
  format: z.string().optional(),
});
export type ImageInspectSpec = z.infer<typeof ImageInspectSpec>;

export const imageInspect = defineCommand({
  path: ['image', 'inspect'],
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Display detailed information on one or more images',
  args: { min: 1 },
  flags: [{ name: 'format', short: 'f', type: 'string', valueName: 'string', help: 'Format the output using the given Go template' }],
  spec: ImageInspectSpec,
  toSpec(p) {
    return { kind: 'image.inspect' as const, images: [...p.args], format: (p.flags.format as string) || undefined };
  },
  async run(spec, ctx) {
    const items: Inspected[] = [];
    for (const image of spec.images) {
      try {
        const text = await engineRaw(ctx, `/images/${encodeURIComponent(image)}/json`);
        const value: unknown = JSON.parse(text);
        // docker's TemplateInspector runs --format over types.ImageInspect (`{{.RootFS}}` is a
        // struct, `{{.ID}}` exists while the JSON says "Id") and, if that fails, over the raw JSON.
        items.push({ value, text, typed: typedImage(value), fallback: true });
      } catch (err) {
        const e = notFoundOr(err, 'image', image);
        if (e.code === 'unavailable') throw e;
        items.push({ error: e.message });
      }
    }
    return inspectOutput(items, { format: spec.format, htmlEscape: false });
  },
});
