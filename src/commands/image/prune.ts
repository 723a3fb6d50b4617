import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { parseFilters } from '../filters.js';
import { UsageError, toDockerError } from '../../errors.js';
import { humanSize } from '../../render/units.js';

export const ImagePruneSpec = z.object({
  kind: z.literal('image.prune'),
  all: z.boolean(),
  filters: z.record(z.string(), z.array(z.string())),
});
export type ImagePruneSpec = z.infer<typeof ImagePruneSpec>;

interface PruneReport {
  ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null;
  SpaceReclaimed?: number;
}

/** What `docker image prune -f` prints for the engine's report. */
export function pruneText(report: PruneReport): string {
  let out = '';
  const deleted = report.ImagesDeleted ?? [];
  let space = 0;
  if (deleted.length > 0) {
    out = 'Deleted Images:\n';
    for (const d of deleted) out += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`;
    out += '\n';
    space = report.SpaceReclaimed ?? 0;
  }
  // go-units HumanSize: 4 significant digits.
  return `${out}Total reclaimed space: ${humanSize(space, 4)}\n`;
}

export const imagePrune = defineCommand({
  path: ['image', 'prune'],
  usage: '[OPTIONS]',
  summary: 'Remove unused images',
  args: { min: 0, max: 0 },
  destructive: true,
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Remove all unused images, not just dangling ones' },
    { name: 'filter', type: 'list', valueName: 'filter', help: "Provide filter values (e.g. 'until=<timestamp>')" },
    { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation (required: dockops cannot prompt)' },
  ],
  spec: ImagePruneSpec,
  toSpec(p) {
    const filters = parseFilters(p.flags.filter as string[], ['label', 'label!', 'until'], 'image prune');
    // docker asks "Are you sure you want to continue? [y/N]"; a job cannot ask, so -f is the yes.
    if (!p.flags.force) {
      const what = p.flags.all ? 'all images without at least one container associated to them' : 'all dangling images';
      throw new UsageError(`"docker image prune" would remove ${what} and dockops cannot ask for confirmation: add -f (--force) to confirm.\nSee 'docker image prune --help'.`, 1);
    }
    return { kind: 'image.prune' as const, all: p.flags.all as boolean, filters };
  },
  async run(spec, ctx) {
    const filters = { ...spec.filters, dangling: [String(!spec.all)] };
    let report: PruneReport;
    try {
      report = (await ctx.docker.pruneImages({ filters: JSON.stringify(filters), abortSignal: ctx.signal } as {})) as PruneReport;
    } catch (err) {
      throw toDockerError(err);
    }
    return ok(pruneText(report), report);
  },
});
