import { z } from 'zod';
import type Docker from 'dockerode';
import { defineCommand, ok } from '../define.js';
import { formatRows } from '../../render/table.js';
import { humanDuration, humanSize, truncateId } from '../../render/units.js';
import { UsageError, toDockerError } from '../../errors.js';
import { imageRows } from '../image/ls.js';
import { containerRows } from '../container/ls.js';
import { volumeRows } from '../volume/ls.js';

export const SystemDfSpec = z.object({
  kind: z.literal('system.df'),
  verbose: z.boolean(),
  format: z.string().optional(),
});
export type SystemDfSpec = z.infer<typeof SystemDfSpec>;

const DEFAULT = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

interface DiskUsage {
  LayersSize?: number;
  Images?: Docker.ImageInfo[] | null;
  Containers?: Array<Docker.ContainerInfo & { SizeRw?: number }> | null;
  Volumes?: Array<{ Name: string; Driver: string; Mountpoint: string; Scope: string; Labels?: Record<string, string> | null; UsageData?: { Size: number; RefCount: number } | null }> | null;
  BuildCache?: Array<{ ID: string; Type: string; Size: number; InUse: boolean; Shared: boolean; CreatedAt: string; LastUsedAt?: string | null; UsageCount: number }> | null;
}

/** "1.2MB (50%)" as docker's disk-usage contexts print a reclaimable share (go-units HumanSize, %.4g). */
function share(part: number, total: number): string {
  return total > 0 ? `${humanSize(part, 4)} (${Math.trunc((part * 100) / total)}%)` : humanSize(part, 4);
}

/** The four summary rows of `docker system df`, computed as docker's formatter/disk_usage.go does. */
export function dfRows(du: DiskUsage) {
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];
  const layers = du.LayersSize ?? 0;
  let imgUsed = 0;
  for (const i of images) {
    if (i.Containers > 0 && i.SharedSize !== -1 && (i.Size ?? -1) !== -1) imgUsed += i.Size - i.SharedSize;
  }
  const active = (c: Docker.ContainerInfo) => c.State === 'running' || c.State === 'paused';
  let ctrSize = 0;
  let ctrFree = 0;
  for (const c of containers) {
    ctrSize += c.SizeRw ?? 0;
    if (!active(c)) ctrFree += c.SizeRw ?? 0;
  }
  let volSize = 0;
  let volFree = 0;
  for (const v of volumes) {
    const s = v.UsageData?.Size ?? -1;
    if (s === -1) continue;
    volSize += s;
    if ((v.UsageData?.RefCount ?? 0) === 0) volFree += s;
  }
  let cacheSize = 0;
  let cacheFree = 0;
  for (const b of cache) {
    if (b.Shared) continue;
    cacheSize += b.Size;
    if (!b.InUse) cacheFree += b.Size;
  }
  return [
    { Type: 'Images', TotalCount: String(images.length), Active: String(images.filter((i) => i.Containers > 0).length), Size: humanSize(layers, 4), Reclaimable: share(layers - imgUsed, layers) },
    { Type: 'Containers', TotalCount: String(containers.length), Active: String(containers.filter(active).length), Size: humanSize(ctrSize, 4), Reclaimable: share(ctrFree, ctrSize) },
    { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Size: humanSize(volSize, 4), Reclaimable: share(volFree, volSize) },
    { Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((b) => b.InUse).length), Size: humanSize(cacheSize, 4), Reclaimable: humanSize(cacheFree, 4) },
  ];
}

/** `docker system df -v`: a table per kind of object, as docker prints them. */
function verboseText(du: DiskUsage, nowMs: number): string {
  // One row per image (its first tag), sizes with go-units HumanSize (%.4g), as docker's verbose table.
  const seen = new Set<string>();
  const imgs = imageRows(du.Images ?? [], { digests: false, noTrunc: false }, nowMs).filter((r) => !seen.has(r.ID) && Boolean(seen.add(r.ID)));
  const byId = new Map((du.Images ?? []).map((i) => [truncateId(i.Id), i]));
  for (const r of imgs) {
    const img = byId.get(truncateId(r.ID));
    if (img) r.Size = humanSize(img.Size, 4);
    if (img && img.SharedSize !== -1) {
      r.SharedSize = humanSize(img.SharedSize, 4);
      r.UniqueSize = humanSize(img.Size - img.SharedSize, 4);
    }
  }
  const ctrs = containerRows(du.Containers ?? [], { noTrunc: false }, nowMs).map((r, i) => ({ ...r, Size: humanSize((du.Containers ?? [])[i].SizeRw ?? 0) }));
  const vols = volumeRows((du.Volumes ?? []) as Parameters<typeof volumeRows>[0]);
  const cache = (du.BuildCache ?? []).map((b) => ({
    ID: b.ID,
    CacheType: b.Type,
    Size: humanSize(b.Size),
    CreatedSince: `${humanDuration(nowMs - Date.parse(b.CreatedAt))} ago`,
    LastUsedSince: b.LastUsedAt ? `${humanDuration(nowMs - Date.parse(b.LastUsedAt))} ago` : '',
    UsageCount: String(b.UsageCount),
    Shared: String(b.Shared),
  }));
  const cacheTotal = (du.BuildCache ?? []).reduce((n, b) => n + (b.Shared ? 0 : b.Size), 0);
  return (
    'Images space usage:\n\n' +
    formatRows(imgs, {
      defaultFormat: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
      headers: { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' },
    }) +
    '\nContainers space usage:\n\n' +
    formatRows(ctrs, {
      defaultFormat: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
      headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES' },
    }) +
    '\nLocal Volumes space usage:\n\n' +
    formatRows(vols, { defaultFormat: 'table {{.Name}}\t{{.Links}}\t{{.Size}}', headers: { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' } }) +
    `\nBuild cache usage: ${humanSize(cacheTotal, 4)}\n\n` +
    formatRows(cache, {
      defaultFormat: 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}',
      headers: { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' },
    })
  );
}

export const systemDf = defineCommand({
  path: ['system', 'df'],
  usage: '[OPTIONS]',
  summary: 'Show docker disk usage',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'format', type: 'string', valueName: 'string', help: 'Pretty-print images using a Go template' },
    { name: 'verbose', short: 'v', type: 'bool', help: 'Show detailed information on space usage' },
  ],
  spec: SystemDfSpec,
  toSpec(p) {
    const format = (p.flags.format as string) || undefined;
    if (format && p.flags.verbose) throw new UsageError('dockops: --format with -v is not supported yet; use one or the other\nSee \'docker system df --help\'.');
    return { kind: 'system.df' as const, verbose: p.flags.verbose as boolean, format };
  },
  async run(spec, ctx) {
    let du: DiskUsage;
    try {
      du = (await (ctx.docker.df as (o: object) => Promise<unknown>).call(ctx.docker, { abortSignal: ctx.signal })) as DiskUsage;
    } catch (err) {
      throw toDockerError(err);
    }
    if (spec.verbose) return ok(verboseText(du, ctx.now()));
    const rows = dfRows(du);
    return ok(formatRows(rows, { format: spec.format, defaultFormat: DEFAULT, headers: HEADERS }), rows);
  },
});
