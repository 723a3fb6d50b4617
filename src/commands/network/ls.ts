import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { parseFilters } from '../filters.js';
import { joinLabels } from '../kv.js';
import { formatRows } from '../../render/table.js';
import { sortByName } from '../../render/sort.js';
import { truncateId } from '../../render/units.js';
import { toDockerError } from '../../errors.js';

export const NetworkLsSpec = z.object({
  kind: z.literal('network.ls'),
  quiet: z.boolean(),
  noTrunc: z.boolean(),
  filters: z.record(z.string(), z.array(z.string())),
  format: z.string().optional(),
});
export type NetworkLsSpec = z.infer<typeof NetworkLsSpec>;

const DEFAULT = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
// formatRows types headers as strings; a function member is a method the header template calls.
const HEADERS = {
  CreatedAt: 'CREATED AT',
  Driver: 'DRIVER',
  ID: 'NETWORK ID',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  /** `{{.Label "k"}}` heads its column with the key, as docker's header context does. */
  Label: (name: string) => name,
  Labels: 'LABELS',
  Name: 'NAME',
  Scope: 'SCOPE',
} as unknown as Record<string, string>;

interface NetworkInfo {
  Id: string;
  Name: string;
  Created: string;
  Driver: string;
  Scope: string;
  EnableIPv6: boolean;
  Internal: boolean;
  Labels?: Record<string, string> | null;
}

/** Go's time.Time.String() of an RFC 3339 timestamp: "2026-11-29 06:26:21.844859889 +0000 UTC". */
export function goTimeOfRfc3339(s: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s);
  if (!m) return s;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} +0000 UTC`;
}

/** One row of `docker network ls`, with the fields its Go templates offer. */
export function networkRows(networks: NetworkInfo[], opts: { noTrunc: boolean }) {
  return sortByName(networks).map((n) => ({
    CreatedAt: goTimeOfRfc3339(n.Created),
    Driver: n.Driver,
    ID: opts.noTrunc ? n.Id : truncateId(n.Id),
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    Label: (name: string) => n.Labels?.[name] ?? '',
    Labels: joinLabels(n.Labels),
    Name: n.Name,
    Scope: n.Scope,
  }));
}

export const networkLs = defineCommand({
  path: ['network', 'ls'],
  aliases: [['network', 'list']],
  usage: '[OPTIONS]',
  summary: 'List networks',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: "Provide filter values (e.g. 'driver=bridge')" },
    { name: 'format', type: 'string', valueName: 'string', help: 'Pretty-print networks using a Go template' },
    { name: 'no-trunc', type: 'bool', help: 'Do not truncate the output' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display network IDs' },
  ],
  spec: NetworkLsSpec,
  toSpec(p) {
    return {
      kind: 'network.ls' as const,
      quiet: p.flags.quiet as boolean,
      noTrunc: p.flags['no-trunc'] as boolean,
      filters: parseFilters(p.flags.filter as string[], ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'], 'network ls'),
      format: (p.flags.format as string) || undefined,
    };
  },
  async run(spec, ctx) {
    let list: NetworkInfo[];
    try {
      list = (await ctx.docker.listNetworks({ filters: JSON.stringify(spec.filters), abortSignal: ctx.signal } as {})) as unknown as NetworkInfo[];
    } catch (err) {
      throw toDockerError(err);
    }
    const rows = networkRows(list ?? [], { noTrunc: spec.noTrunc });
    // As docker's NewNetworkFormat: -q changes only the default table; a --format of one's own wins.
    const format = spec.quiet && (!spec.format || spec.format === 'table') ? '{{.ID}}' : spec.format;
    return ok(formatRows(rows, { format, defaultFormat: DEFAULT, headers: HEADERS }), rows);
  },
});
