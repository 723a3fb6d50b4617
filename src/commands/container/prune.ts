import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { UsageError, toDockerError } from '../../errors.js';
import { humanSize } from '../../render/units.js';

export const ContainerPruneSpec = z.object({
  kind: z.literal('container.prune'),
  filters: z.record(z.string(), z.array(z.string())),
});
export type ContainerPruneSpec = z.infer<typeof ContainerPruneSpec>;

export const containerPrune = defineCommand({
  path: ['container', 'prune'],
  usage: '[OPTIONS]',
  summary: 'Remove all stopped containers',
  args: { min: 0, max: 0 },
  destructive: true,
  flags: [
    { name: 'filter', type: 'list', valueName: 'filter', help: 'Provide filter values (e.g. \'until=<timestamp>\')' },
    { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation (required: dockops cannot prompt)' },
  ],
  spec: ContainerPruneSpec,
  toSpec(p) {
    if (!p.flags.force) {
      throw new UsageError(
        `WARNING! This will remove all stopped containers.\ndockops cannot ask for confirmation here: add -f to prune (docker container prune -f)`,
        1,
      );
    }
    // The engine checks the filter names (until, label, label!) and words the error itself.
    const filters: Record<string, string[]> = {};
    for (const f of p.flags.filter as string[]) {
      const eq = f.indexOf('=');
      if (eq <= 0) throw new UsageError(`bad format of filter (expected name=value)\nSee 'docker container prune --help'.`);
      (filters[f.slice(0, eq).trim().toLowerCase()] ??= []).push(f.slice(eq + 1).trim());
    }
    return { kind: 'container.prune' as const, filters };
  },
  async run(spec, ctx) {
    let report: { ContainersDeleted?: string[] | null; SpaceReclaimed?: number };
    try {
      report = (await ctx.docker.pruneContainers({ filters: JSON.stringify(spec.filters), abortSignal: ctx.signal } as {})) as typeof report;
    } catch (err) {
      throw toDockerError(err);
    }
    const deleted = report.ContainersDeleted ?? [];
    let out = '';
    let space = 0;
    if (deleted.length) {
      out = `Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}\n`;
      space = report.SpaceReclaimed ?? 0;
    }
    // go-units HumanSize: precision 4.
    return ok(`${out}Total reclaimed space: ${humanSize(space, 4)}\n`, { deleted, spaceReclaimed: space });
  },
});
