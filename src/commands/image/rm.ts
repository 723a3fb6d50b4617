import { z } from 'zod';
import { defineCommand } from '../define.js';
import { UnavailableError, notFoundOr } from '../../errors.js';

export const ImageRmSpec = z.object({
  kind: z.literal('image.rm'),
  images: z.array(z.string().min(1)).min(1),
  force: z.boolean(),
  noPrune: z.boolean(),
});
export type ImageRmSpec = z.infer<typeof ImageRmSpec>;

interface DeleteItem {
  Untagged?: string;
  Deleted?: string;
}

export const imageRm = defineCommand({
  path: ['image', 'rm'],
  aliases: [['rmi'], ['image', 'remove']],
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Remove one or more images',
  args: { min: 1 },
  destructive: true,
  flags: [
    { name: 'force', short: 'f', type: 'bool', help: 'Force removal of the image' },
    { name: 'no-prune', type: 'bool', help: 'Do not delete untagged parents' },
  ],
  spec: ImageRmSpec,
  toSpec(p) {
    return { kind: 'image.rm' as const, images: [...p.args], force: p.flags.force as boolean, noPrune: p.flags['no-prune'] as boolean };
  },
  async run(spec, ctx) {
    // As docker's rmi: every image is tried; failures are gathered and reported at the end.
    let stdout = '';
    const errs: string[] = [];
    let fatal = false;
    const removed: DeleteItem[] = [];
    for (const image of spec.images) {
      let items: DeleteItem[];
      try {
        items = (await ctx.docker.getImage(image).remove({ force: spec.force, noprune: spec.noPrune, abortSignal: ctx.signal } as {})) as DeleteItem[];
      } catch (err) {
        const e = notFoundOr(err, 'image', image);
        if (e instanceof UnavailableError) throw e;
        if (e.statusCode !== 404) fatal = true;
        errs.push(e.message);
        continue;
      }
      for (const d of items ?? []) {
        const line = d.Deleted ? `Deleted: ${d.Deleted}\n` : `Untagged: ${d.Untagged}\n`;
        stdout += line;
        removed.push(d);
      }
    }
    // `rmi -f` of a missing image is not a failure (docker prints the error and exits 0).
    const exitCode = errs.length > 0 && (!spec.force || fatal) ? 1 : 0;
    const stderr = errs.length > 0 ? `${errs.join('\n')}\n` : '';
    return { exitCode, stdout, stderr, streamed: false, truncated: false, data: { removed, errors: errs } };
  },
});
