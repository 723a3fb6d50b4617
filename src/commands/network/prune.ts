import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { parseFilters } from '../filters.js';
import { toDockerError, UsageError } from '../../errors.js';

export const NetworkPruneSpec = z.object({
  kind: z.literal('network.prune'),
  filters: z.record(z.string(), z.array(z.string())),
});
export type NetworkPruneSpec = z.infer<typeof NetworkPruneSpec>;

/** "Deleted Networks:" block as docker prints it (nothing at all when none went). */
export function networkPruneText(deleted: string[]): string {
  return deleted.length ? `Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}\n` : '';
}

export const networkPrune = defineCommand({
  path: ['network', 'prune'],
  usage: '[OPTIONS]',
  summary: 'Remove all unused networks',
  args: { min: 0, max: 0 },
  destructive: true,
  flags: [
    { name: 'filter', type: 'list', valueName: 'filter', help: "Provide filter values (e.g. 'until=<timestamp>')" },
    { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation (required here: dockops cannot prompt)' },
  ],
  spec: NetworkPruneSpec,
  toSpec(p) {
    if (!p.flags.force) {
      throw new UsageError(
        `"docker network prune" removes all custom networks not used by at least one container, and dockops cannot ask for confirmation: add -f (--force) to confirm.\nSee 'docker network prune --help'.`,
        1,
      );
    }
    return { kind: 'network.prune' as const, filters: parseFilters(p.flags.filter as string[], ['until', 'label', 'label!'], 'network prune') };
  },
  async run(spec, ctx) {
    let report: { NetworksDeleted?: string[] | null };
    try {
      report = (await ctx.docker.pruneNetworks({ filters: JSON.stringify(spec.filters), abortSignal: ctx.signal } as {})) as typeof report;
    } catch (err) {
      throw toDockerError(err);
    }
    const deleted = report.NetworksDeleted ?? [];
    return ok(networkPruneText(deleted), { deleted });
  },
});
