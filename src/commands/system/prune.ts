import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { DockerError, UsageError, toDockerError } from '../../errors.js';
import { humanSize } from '../../render/units.js';

export const SystemPruneSpec = z.object({
  kind: z.literal('system.prune'),
  all: z.boolean(),
  volumes: z.boolean(),
  filters: z.record(z.string(), z.array(z.string())),
});
export type SystemPruneSpec = z.infer<typeof SystemPruneSpec>;

/** What each part of the prune removed, in docker 20.10's order. */
export interface SystemPruneReport {
  containers: string[];
  networks: string[];
  volumes: string[];
  images: { Untagged?: string; Deleted?: string }[];
  buildCache: string[];
  spaceReclaimed: number;
}

/** `docker system prune -f` output: a block per kind that removed something, then the total. */
export function systemPruneText(r: SystemPruneReport): string {
  const block = (title: string, lines: string[]) => (lines.length ? `${title}\n${lines.map((l) => `${l}\n`).join('')}\n` : '');
  return (
    block('Deleted Containers:', r.containers) +
    block('Deleted Networks:', r.networks) +
    block('Deleted Volumes:', r.volumes) +
    block('Deleted Images:', r.images.map((d) => (d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted}`))) +
    block('Deleted build cache objects:', r.buildCache) +
    `Total reclaimed space: ${humanSize(r.spaceReclaimed, 4)}\n`
  );
}

function warning(all: boolean, volumes: boolean): string {
  return [
    'WARNING! This will remove:',
    '  - all stopped containers',
    '  - all networks not used by at least one container',
    ...(volumes ? ['  - all volumes not used by at least one container'] : []),
    all ? '  - all images without at least one container associated to them' : '  - all dangling images',
    '  - all build cache',
  ].join('\n');
}

export const systemPrune = defineCommand({
  path: ['system', 'prune'],
  usage: '[OPTIONS]',
  summary: 'Remove unused data',
  args: { min: 0, max: 0 },
  destructive: true,
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Remove all unused images not just dangling ones' },
    { name: 'filter', type: 'list', valueName: 'filter', help: 'Provide filter values (e.g. \'label=<key>=<value>\')' },
    { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation (required: dockops cannot prompt)' },
    { name: 'volumes', type: 'bool', help: 'Prune volumes' },
  ],
  spec: SystemPruneSpec,
  toSpec(p) {
    const filters: Record<string, string[]> = {};
    for (const f of p.flags.filter as string[]) {
      const eq = f.indexOf('=');
      if (eq <= 0) throw new UsageError(`invalid argument "${f}" for "--filter" flag: bad format of filter (expected name=value)\nSee 'docker system prune --help'.`);
      (filters[f.slice(0, eq).trim().toLowerCase()] ??= []).push(f.slice(eq + 1).trim());
    }
    if (p.flags.volumes && filters.until) throw new UsageError('ERROR: The "until" filter is not supported with "--volumes"', 1);
    if (!p.flags.force) {
      throw new UsageError(
        `${warning(p.flags.all as boolean, p.flags.volumes as boolean)}\ndockops cannot ask for confirmation here: add -f to prune (docker system prune -f)`,
        1,
      );
    }
    return { kind: 'system.prune' as const, all: p.flags.all as boolean, volumes: p.flags.volumes as boolean, filters };
  },
  async run(spec, ctx) {
    const d = ctx.docker;
    const q = (extra: Record<string, string[]> = {}) => ({ filters: JSON.stringify({ ...spec.filters, ...extra }), abortSignal: ctx.signal }) as {};
    const report: SystemPruneReport = { containers: [], networks: [], volumes: [], images: [], buildCache: [], spaceReclaimed: 0 };
    // docker's order: containers, networks, volumes (--volumes), images, build cache; the first failure stops it.
    try {
      const c = (await d.pruneContainers(q())) as { ContainersDeleted?: string[] | null; SpaceReclaimed?: number };
      report.containers = c.ContainersDeleted ?? [];
      report.spaceReclaimed += c.SpaceReclaimed ?? 0;
      const n = (await d.pruneNetworks(q())) as { NetworksDeleted?: string[] | null };
      report.networks = n.NetworksDeleted ?? [];
      if (spec.volumes) {
        const v = (await d.pruneVolumes(q())) as { VolumesDeleted?: string[] | null; SpaceReclaimed?: number };
        report.volumes = v.VolumesDeleted ?? [];
        report.spaceReclaimed += v.SpaceReclaimed ?? 0;
      }
      const i = (await d.pruneImages(q({ dangling: [String(!spec.all)] }))) as { ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed?: number };
      report.images = i.ImagesDeleted ?? [];
      report.spaceReclaimed += i.SpaceReclaimed ?? 0;
      const b = (await d.pruneBuilder({ ...(spec.all ? { all: true } : {}), ...q() } as {})) as { CachesDeleted?: string[] | null; SpaceReclaimed?: number };
      report.buildCache = b.CachesDeleted ?? [];
      report.spaceReclaimed += b.SpaceReclaimed ?? 0;
    } catch (err) {
      if (err instanceof DockerError) throw err;
      throw toDockerError(err);
    }
    return ok(systemPruneText(report), report);
  },
});
