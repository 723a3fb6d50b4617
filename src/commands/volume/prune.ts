import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { parseFilters } from '../filters.js';
import { humanSize } from '../../render/units.js';
import { toDockerError, UsageError } from '../../errors.js';

export const VolumePruneSpec = z.object({
  kind: z.literal('volume.prune'),
  all: z.boolean(),
  filters: z.record(z.string(), z.array(z.string())),
});
export type VolumePruneSpec = z.infer<typeof VolumePruneSpec>;

/** The first Engine API version with the `all` prune filter (engine 23.0). */
const API_WITH_ALL = [1, 42];

function apiAtLeast(version: string, min: number[]): boolean {
  const [major, minor] = version.split('.').map((n) => Number.parseInt(n, 10));
  return major > min[0] || (major === min[0] && minor >= min[1]);
}

/** "Deleted Volumes:" block and the total, as docker prints them. */
export function volumePruneText(deleted: string[], reclaimed: number): string {
  const block = deleted.length ? `Deleted Volumes:\n${deleted.map((v) => `${v}\n`).join('')}\n` : '';
  return `${block}Total reclaimed space: ${humanSize(reclaimed, 4)}\n`;
}

export const volumePrune = defineCommand({
  path: ['volume', 'prune'],
  usage: '[OPTIONS]',
  summary: 'Remove all unused local volumes',
  args: { min: 0, max: 0 },
  destructive: true,
  flags: [
    {
      name: 'all',
      short: 'a',
      type: 'bool',
      help: 'Remove all unused volumes, not just anonymous ones (an API 1.41 engine, docker 20.10, always removes named ones too)',
    },
    { name: 'filter', type: 'list', valueName: 'filter', help: "Provide filter values (e.g. 'label=<label>')" },
    { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation (required here: dockops cannot prompt)' },
  ],
  spec: VolumePruneSpec,
  toSpec(p) {
    if (!p.flags.force) {
      throw new UsageError(
        `"docker volume prune" removes all local volumes not used by at least one container, and dockops cannot ask for confirmation: add -f (--force) to confirm.\nSee 'docker volume prune --help'.`,
        1,
      );
    }
    return {
      kind: 'volume.prune' as const,
      all: p.flags.all as boolean,
      filters: parseFilters(p.flags.filter as string[], ['label', 'label!'], 'volume prune'),
    };
  },
  async run(spec, ctx) {
    const filters = { ...spec.filters };
    if (spec.all) {
      // API 1.42+ prunes only anonymous volumes unless asked for all; 1.41 has no such filter
      // (it answers "Invalid filter 'all'") and prunes named volumes anyway.
      let api = '1.41';
      try {
        api = ((await ctx.docker.version()) as unknown as { ApiVersion: string }).ApiVersion;
      } catch (err) {
        throw toDockerError(err);
      }
      if (apiAtLeast(api, API_WITH_ALL)) filters.all = ['true'];
    }
    let report: { VolumesDeleted?: string[] | null; SpaceReclaimed?: number };
    try {
      report = (await ctx.docker.pruneVolumes({ filters: JSON.stringify(filters), abortSignal: ctx.signal } as {})) as typeof report;
    } catch (err) {
      throw toDockerError(err);
    }
    const deleted = report.VolumesDeleted ?? [];
    return ok(volumePruneText(deleted, report.SpaceReclaimed ?? 0), { deleted, spaceReclaimed: report.SpaceReclaimed ?? 0 });
  },
});
