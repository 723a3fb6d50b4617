import { z } from 'zod';
import type Docker from 'dockerode';
import { defineCommand, ok } from '../define.js';
import { parseFilters } from '../filters.js';
import { familiarString, parseRef } from '../../docker/refs.js';
import { formatRows } from '../../render/table.js';
import { goTimeString } from '../../render/time.js';
import { ellipsis, humanDuration, humanSize, truncateId } from '../../render/units.js';
import { toDockerError } from '../../errors.js';

export const ContainerLsSpec = z.object({
  kind: z.literal('container.ls'),
  all: z.boolean(),
  last: z.number().int(),
  latest: z.boolean(),
  noTrunc: z.boolean(),
  quiet: z.boolean(),
  size: z.boolean(),
  filters: z.record(z.string(), z.array(z.string())),
  format: z.string().optional(),
});
export type ContainerLsSpec = z.infer<typeof ContainerLsSpec>;

const DEFAULT = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
const HEADERS = {
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Labels: 'LABELS',
  LocalVolumes: 'LOCAL VOLUMES',
  Mounts: 'MOUNTS',
  Names: 'NAMES',
  Networks: 'NETWORKS',
  Ports: 'PORTS',
  RunningFor: 'CREATED',
  Size: 'SIZE',
  State: 'STATE',
  Status: 'STATUS',
};

export const FILTERS = ['id', 'name', 'label', 'exited', 'status', 'ancestor', 'before', 'since', 'volume', 'network', 'publish', 'expose', 'health', 'isolation', 'is-task'];

interface Port {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/** docker's DisplayablePorts: consecutive ports grouped into ranges, host mappings last. */
export function displayablePorts(ports: Port[]): string {
  const sorted = [...ports].sort((a, b) =>
    a.PrivatePort !== b.PrivatePort
      ? a.PrivatePort - b.PrivatePort
      : (a.IP ?? '') !== (b.IP ?? '')
        ? ((a.IP ?? '') < (b.IP ?? '') ? -1 : 1)
        : (a.PublicPort ?? 0) !== (b.PublicPort ?? 0)
          ? (a.PublicPort ?? 0) - (b.PublicPort ?? 0)
          : a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0,
  );
  const groups = new Map<string, { first: number; last: number }>();
  const order: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  const form = (key: string, first: number, last: number) => {
    const parts = key.split('/');
    let type = parts[0];
    let ip = '';
    if (parts.length > 1) {
      ip = parts[0];
      type = parts[1];
    }
    let g = String(first);
    if (first !== last) g = `${g}-${last}`;
    if (ip) g = `${ip}:${g}->${g}`;
    return `${g}/${type}`;
  };
  for (const p of sorted) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        const host = p.IP.includes(':') ? `[${p.IP}]` : p.IP;
        hostMappings.push(`${host}:${p.PublicPort ?? 0}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      order.push(key);
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(form(key, g.first, g.last));
    groups.set(key, { first: current, last: current });
  }
  for (const key of order) {
    const g = groups.get(key) as { first: number; last: number };
    result.push(form(key, g.first, g.last));
  }
  return [...result, ...hostMappings].join(', ');
}

/** The IMAGE column: an ID shortened, a digest dropped from a named reference, unless --no-trunc. */
function imageColumn(c: Docker.ContainerInfo, trunc: boolean): string {
  if (!c.Image) return '<no image>';
  if (!trunc) return c.Image;
  if (truncateId(c.ImageID) === truncateId(c.Image)) return truncateId(c.Image);
  if (/^[a-f0-9]{64}$/.test(c.Image)) return c.Image;
  const r = parseRef(c.Image);
  return familiarString({ ...r, digest: undefined, tag: r.tag });
}

/** One row of `docker ps`, with the fields its Go templates offer. */
export function containerRows(list: Docker.ContainerInfo[], opts: { noTrunc: boolean }, nowMs: number) {
  const trunc = !opts.noTrunc;
  return list.map((c) => {
    let names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
    if (trunc) names = names.filter((n) => !n.includes('/')).slice(0, 1);
    const command = trunc ? ellipsis(c.Command ?? '', 20) : c.Command ?? '';
    const info = c as Docker.ContainerInfo & { SizeRw?: number; SizeRootFs?: number };
    const mounts = (c.Mounts ?? []).map((m) => {
      const name = m.Name || m.Source;
      return trunc ? ellipsis(name, 15) : name;
    });
    return {
      Command: JSON.stringify(command),
      CreatedAt: goTimeString(c.Created),
      ID: trunc ? truncateId(c.Id) : c.Id,
      Image: imageColumn(c, trunc),
      Labels: Object.entries(c.Labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
      Mounts: mounts.join(','),
      Names: names.join(','),
      Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).join(','),
      Ports: displayablePorts((c.Ports ?? []) as Port[]),
      RunningFor: `${humanDuration(nowMs - c.Created * 1000)} ago`,
      Size: `${humanSize(info.SizeRw ?? 0)} (virtual ${humanSize(info.SizeRootFs ?? 0)})`,
      State: c.State,
      Status: c.Status,
    };
  });
}

export const containerLs = defineCommand({
  path: ['container', 'ls'],
  aliases: [['ps'], ['container', 'list'], ['container', 'ps']],
  usage: '[OPTIONS]',
  summary: 'List containers',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', valueName: 'string', help: 'Pretty-print containers using a Go template' },
    { name: 'last', short: 'n', type: 'int', default: -1, help: 'Show n last created containers (includes all states)' },
    { name: 'latest', short: 'l', type: 'bool', help: 'Show the latest created container (includes all states)' },
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display container IDs' },
    { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes' },
  ],
  spec: ContainerLsSpec,
  toSpec(p) {
    return {
      kind: 'container.ls' as const,
      all: p.flags.all as boolean,
      last: p.flags.last as number,
      latest: p.flags.latest as boolean,
      noTrunc: p.flags['no-trunc'] as boolean,
      quiet: p.flags.quiet as boolean,
      size: p.flags.size as boolean,
      filters: parseFilters(p.flags.filter as string[], FILTERS, 'ps'),
      format: (p.flags.format as string) || undefined,
    };
  },
  async run(spec, ctx) {
    const limit = spec.latest ? 1 : spec.last;
    // As docker does: a template that uses .Size (or marshals every field) asks the engine for sizes.
    const wantsSize = spec.size || /\.Size\b|json \.\s*}}|^json$/.test(spec.format ?? '');
    let list: Docker.ContainerInfo[];
    try {
      list = await ctx.docker.listContainers({
        all: spec.all || limit > 0,
        limit: limit > 0 ? limit : undefined,
        size: wantsSize,
        filters: JSON.stringify(spec.filters),
        abortSignal: ctx.signal,
      } as {});
    } catch (err) {
      throw toDockerError(err);
    }
    const rows = containerRows(list, { noTrunc: spec.noTrunc }, ctx.now());
    let format = spec.quiet ? '{{.ID}}' : spec.format;
    let defaultFormat = DEFAULT;
    if (spec.size && !spec.format && !spec.quiet) defaultFormat = `${DEFAULT}\t{{.Size}}`;
    if (spec.quiet) defaultFormat = format = '{{.ID}}';
    return ok(formatRows(rows, { format, defaultFormat, headers: HEADERS }), rows);
  },
});
