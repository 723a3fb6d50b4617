import { z } from 'zod';
import type Docker from 'dockerode';
import { defineCommand, ok } from '../define.js';
import { formatRows } from '../../render/table.js';
import { compileTemplate, parseFormat, unescapeFormat } from '../../render/go-template.js';
import { GO_TYPE } from '../../render/go-template-funcs.js';
import { goTimeString } from '../../render/time.js';
import { humanDuration, humanSize, truncateId } from '../../render/units.js';
import { familiarName, isValidRef, parseRef } from '../../docker/refs.js';
import { UsageError, toDockerError } from '../../errors.js';
import type { ImageRow } from '../image/ls.js';
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

const IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.VirtualSize}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const CONTAINER_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const VOLUME_TABLE = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';
const CACHE_TABLE = 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';

/** docker 20.10's `-v --format raw`: every object as `key: value` lines, a blank line after each. */
const RAW = `{{range .Images}}type: Image
repository: {{ .Repository }}
tag: {{.Tag}}
digest: {{.Digest}}
image_id: {{.ID}}
created_at: {{.CreatedAt}}
virtual_size: {{.Size}}

{{end -}}
{{range .Containers}}type: Container
container_id: {{.ID}}
image: {{.Image}}
command: {{.Command}}
created_at: {{.CreatedAt}}
state: {{- pad .State 1 0}}
status: {{- pad .Status 1 0}}
names: {{.Names}}
labels: {{- pad .Labels 1 0}}
ports: {{- pad .Ports 1 0}}
size: {{.Size}}

{{end -}}
{{range .Volumes}}type: Volume
name: {{.Name}}
driver: {{.Driver}}

{{end -}}
{{range .BuildCache}}type: Build Cache
build_cache_id: {{.ID}}
parent_id: {{.Parent}}
build_cache_type: {{.CacheType}}
description: {{.Description}}
created_at: {{.CreatedAt}}
created_since: {{.CreatedSince}}
last_used_at: {{.LastUsedAt}}
last_used_since: {{.LastUsedSince}}
usage_count: {{.UsageCount}}
in_use: {{.InUse}}
shared: {{.Shared}}

{{end -}}`;

type BuildCacheRecord = NonNullable<DiskUsage['BuildCache']>[number] & { Parent?: string; Parents?: string[] | null; Description?: string };

/** Go's time.Time String() of an RFC 3339 time in UTC ("2026-11-29 05:22:27.123 +0000 UTC"). */
function goTime(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (!m) return iso;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} +0000 UTC`;
}

/** A row standing for one of docker's formatter contexts (its name in errors, marshalled as a row). */
function row<T extends object>(goType: string, fields: T): T {
  return Object.assign(fields, { [GO_TYPE]: { name: `*formatter.${goType}`, row: true } });
}

/**
 * What `docker system df -v` formats, as its diskUsageContext holds it: one context per image
 * (its first tag), container, volume (the engine's order) and build cache record (by last use).
 * `trunc` is docker's: IDs and commands are shortened for table formats only.
 */
export function diskUsageSections(du: DiskUsage, trunc: boolean, nowMs: number) {
  const images: ImageRow[] = [];
  for (const i of du.Images ?? []) {
    let repository = '<none>';
    let tag = '<none>';
    const tags = i.RepoTags ?? [];
    const digests = i.RepoDigests ?? [];
    const dangling = (tags.length === 0 && digests.length === 0) || (tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>');
    if (tags.length > 0 && !dangling) {
      if (!isValidRef(tags[0])) continue; // docker skips an image whose first tag does not parse
      const r = parseRef(tags[0]);
      if (r.tag) {
        repository = familiarName(r);
        tag = r.tag;
      }
    }
    images.push(
      row('imageContext', {
        Containers: i.Containers === -1 ? 'N/A' : String(i.Containers),
        CreatedAt: goTimeString(i.Created),
        CreatedSince: `${humanDuration(nowMs - i.Created * 1000)} ago`,
        Digest: '',
        ID: trunc ? truncateId(i.Id) : i.Id,
        Repository: repository,
        SharedSize: i.SharedSize === -1 ? 'N/A' : humanSize(i.SharedSize, 4),
        Size: humanSize(i.Size),
        Tag: tag,
        UniqueSize: i.SharedSize === -1 || i.Size === -1 ? 'N/A' : humanSize(i.Size - i.SharedSize, 4),
        VirtualSize: humanSize((i as { VirtualSize?: number }).VirtualSize ?? i.Size, 4),
      }),
    );
  }
  const list = du.Containers ?? [];
  // The virtual size is not shown: only the writable layer's.
  const containers = containerRows(list, { noTrunc: !trunc }, nowMs).map((r, k) => row('ContainerContext', { ...r, Size: humanSize(list[k].SizeRw ?? 0) }));
  const vols = volumeRows((du.Volumes ?? []) as Parameters<typeof volumeRows>[0]);
  const byName = new Map(vols.map((v) => [v.Name, v]));
  const volumes = (du.Volumes ?? []).map((v) => row('volumeContext', byName.get(v.Name) as (typeof vols)[number]));
  const records = [...((du.BuildCache ?? []) as BuildCacheRecord[])].sort((a, b) => {
    const la = a.LastUsedAt ? Date.parse(a.LastUsedAt) : undefined;
    const lb = b.LastUsedAt ? Date.parse(b.LastUsedAt) : undefined;
    if (la === lb) return a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0;
    if (la === undefined) return -1;
    if (lb === undefined) return 1;
    return la - lb;
  });
  const cache = records.map((b) => {
    const id = trunc ? truncateId(b.ID) : b.ID;
    const parent = b.Parents?.length ? b.Parents.join(', ') : b.Parent ?? '';
    return row('buildCacheContext', {
      CacheType: b.Type,
      CreatedAt: goTime(b.CreatedAt),
      CreatedSince: `${humanDuration(nowMs - Date.parse(b.CreatedAt))} ago`,
      Description: b.Description ?? '',
      ID: b.InUse ? `${id}*` : id,
      InUse: String(b.InUse),
      LastUsedAt: b.LastUsedAt ? goTime(b.LastUsedAt) : '',
      LastUsedSince: b.LastUsedAt ? `${humanDuration(nowMs - Date.parse(b.LastUsedAt))} ago` : '',
      Parent: trunc ? truncateId(parent) : parent,
      Shared: String(b.Shared),
      Size: humanSize(b.Size),
      UsageCount: String(b.UsageCount),
    });
  });
  return { Images: images, Containers: containers, Volumes: volumes, BuildCache: cache, [GO_TYPE]: { name: '*formatter.diskUsageContext' } };
}

/** `docker system df -v`: a table per kind of object, as docker prints them. */
function verboseText(du: DiskUsage, nowMs: number): string {
  const s = diskUsageSections(du, true, nowMs);
  const cacheTotal = (du.BuildCache ?? []).reduce((n, b) => n + (b.Shared ? 0 : b.Size), 0);
  return (
    'Images space usage:\n\n' +
    formatRows(s.Images, {
      defaultFormat: IMAGE_TABLE,
      headers: { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', VirtualSize: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' },
    }) +
    '\nContainers space usage:\n\n' +
    formatRows(s.Containers, {
      defaultFormat: CONTAINER_TABLE,
      headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES' },
    }) +
    '\nLocal Volumes space usage:\n\n' +
    formatRows(s.Volumes, { defaultFormat: VOLUME_TABLE, headers: { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' } }) +
    `\nBuild cache usage: ${humanSize(cacheTotal, 4)}\n\n` +
    formatRows(s.BuildCache, {
      defaultFormat: CACHE_TABLE,
      headers: { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' },
    })
  );
}

/**
 * `docker system df -v --format T`, as docker 20.10 runs it: T is executed once over the whole
 * disk usage ({{range .Images}}…{{end}}, {{json .Containers}}, …), with no header and no newline
 * of its own; `table` alone is the four tables; `raw` is docker's key: value listing. `json`
 * prints the whole as one JSON object, as newer CLIs do (20.10 printed the word "json").
 */
function verboseFormatted(du: DiskUsage, format: string, nowMs: number): string {
  const source = format === 'raw' ? RAW : format === 'json' ? '{{json .}}' : format;
  const { table, template } = parseFormat(unescapeFormat(source));
  let exec: (data: unknown) => string;
  try {
    exec = compileTemplate(template);
  } catch (err) {
    throw new UsageError((err as Error).message, 1);
  }
  try {
    return exec(diskUsageSections(du, table, nowMs));
  } catch (err) {
    throw new UsageError((err as Error).message, 1);
  }
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
    return { kind: 'system.df' as const, verbose: p.flags.verbose as boolean, format };
  },
  async run(spec, ctx) {
    let du: DiskUsage;
    try {
      du = (await (ctx.docker.df as (o: object) => Promise<unknown>).call(ctx.docker, { abortSignal: ctx.signal })) as DiskUsage;
    } catch (err) {
      throw toDockerError(err);
    }
    if (spec.verbose) return ok(spec.format && spec.format !== 'table' ? verboseFormatted(du, spec.format, ctx.now()) : verboseText(du, ctx.now()));
    const rows = dfRows(du);
    return ok(formatRows(rows, { format: spec.format, defaultFormat: DEFAULT, headers: HEADERS }), rows);
  },
});
