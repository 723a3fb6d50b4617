import { z } from 'zod';
import type Docker from 'dockerode';
import { defineCommand, ok } from '../define.js';
import { parseFilters } from '../filters.js';
import { joinLabels } from '../kv.js';
import { formatRows } from '../../render/table.js';
import { sortByName } from '../../render/sort.js';
import { humanSize } from '../../render/units.js';
import { toDockerError } from '../../errors.js';

export const VolumeLsSpec = z.object({
  kind: z.literal('volume.ls'),
  quiet: z.boolean(),
  filters: z.record(z.string(), z.array(z.string())),
  format: z.string().optional(),
});
export type VolumeLsSpec = z.infer<typeof VolumeLsSpec>;

const DEFAULT = 'table {{.Driver}}\t{{.Name}}';
// formatRows types headers as strings; a function member is a method the header template calls.
const HEADERS = {
  Driver: 'DRIVER',
  /** `{{.Label "k"}}` heads its column with the key, as docker's header context does. */
  Label: (name: string) => name,
  Labels: 'LABELS',
  Links: 'LINKS',
  Mountpoint: 'MOUNTPOINT',
  Name: 'VOLUME NAME',
  Scope: 'SCOPE',
  Size: 'SIZE',
} as unknown as Record<string, string>;

interface VolumeInfo {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Scope: string;
  Labels?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** One row of `docker volume ls`, with the fields its Go templates offer. */
export function volumeRows(volumes: VolumeInfo[]) {
  return sortByName(volumes).map((v) => ({
    Driver: v.Driver,
    Label: (name: string) => v.Labels?.[name] ?? '',
    Labels: joinLabels(v.Labels),
    Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A',
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Scope: v.Scope,
    Size: v.UsageData ? humanSize(v.UsageData.Size, 4) : 'N/A',
  }));
}

export const volumeLs = defineCommand({
  path: ['volume', 'ls'],
  aliases: [['volume', 'list']],
  usage: '[OPTIONS]',
  summary: 'List volumes',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: "Provide filter values (e.g. 'dangling=true')" },
    { name: 'format', type: 'string', valueName: 'string', help: 'Pretty-print volumes using a Go template' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display volume names' },
  ],
  spec: VolumeLsSpec,
  toSpec(p) {
    return {
      kind: 'volume.ls' as const,
      quiet: p.flags.quiet as boolean,
      filters: parseFilters(p.flags.filter as string[], ['dangling', 'driver', 'label', 'name'], 'volume ls'),
      format: (p.flags.format as string) || undefined,
    };
  },
  async run(spec, ctx) {
    let res: { Volumes: Docker.VolumeInspectInfo[] | null };
    try {
      res = (await ctx.docker.listVolumes({ filters: JSON.stringify(spec.filters), abortSignal: ctx.signal } as {})) as typeof res;
    } catch (err) {
      throw toDockerError(err);
    }
    const rows = volumeRows((res.Volumes ?? []) as unknown as VolumeInfo[]);
    // As docker's NewVolumeFormat: -q changes only the default table; a --format of one's own wins.
    const format = spec.quiet && (!spec.format || spec.format === 'table') ? '{{.Name}}' : spec.format;
    return ok(formatRows(rows, { format, defaultFormat: DEFAULT, headers: HEADERS }), rows);
  },
});
