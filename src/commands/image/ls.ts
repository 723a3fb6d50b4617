import { z } from 'zod';
import type Docker from 'dockerode';
import { defineCommand, ok } from '../define.js';
import { parseFilters } from '../filters.js';
import { familiarName, parseRef } from '../../docker/refs.js';
import { formatRows } from '../../render/table.js';
import { goTimeString } from '../../render/time.js';
import { humanDuration, humanSize, truncateId } from '../../render/units.js';
import { toDockerError } from '../../errors.js';

export const ImageLsSpec = z.object({
  kind: z.literal('image.ls'),
  all: z.boolean(),
  digests: z.boolean(),
  noTrunc: z.boolean(),
  quiet: z.boolean(),
  filters: z.record(z.string(), z.array(z.string())),
  format: z.string().optional(),
  /** Optional REPOSITORY[:TAG] argument (a reference filter). */
  reference: z.string().optional(),
});
export type ImageLsSpec = z.infer<typeof ImageLsSpec>;

const DEFAULT = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const DEFAULT_DIGESTS = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const HEADERS = {
  Containers: 'CONTAINERS',
  CreatedAt: 'CREATED AT',
  CreatedSince: 'CREATED',
  Digest: 'DIGEST',
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  SharedSize: 'SHARED SIZE',
  Size: 'SIZE',
  Tag: 'TAG',
  UniqueSize: 'UNIQUE SIZE',
  VirtualSize: 'VIRTUAL SIZE',
};

/** One row of `docker images`, with the fields its Go templates offer (keys sorted, as docker's JSON). */
export interface ImageRow {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

/**
 * Rows per image as docker's formatter makes them: one per repository:tag, digests joined to
 * their tags (or shown alone), and one `<none>` row for an image with neither.
 */
export function imageRows(images: Docker.ImageInfo[], opts: { digests: boolean; noTrunc: boolean }, nowMs: number): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of images) {
    const base = (repo: string, tag: string, digest: string): ImageRow => ({
      Containers: img.Containers === -1 || img.Containers === undefined ? 'N/A' : String(img.Containers),
      CreatedAt: goTimeString(img.Created),
      CreatedSince: `${humanDuration(nowMs - img.Created * 1000)} ago`,
      Digest: digest,
      ID: opts.noTrunc ? img.Id : truncateId(img.Id),
      Repository: repo,
      SharedSize: img.SharedSize === -1 ? 'N/A' : humanSize(img.SharedSize),
      Size: humanSize(img.Size),
      Tag: tag,
      UniqueSize: img.SharedSize === -1 ? 'N/A' : humanSize(img.Size - img.SharedSize),
      VirtualSize: humanSize4(img.VirtualSize ?? img.Size),
    });
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const t of img.RepoTags ?? []) {
      if (t === '<none>:<none>') continue;
      const r = parseRef(t);
      if (!r.tag) continue;
      const name = familiarName(r);
      repoTags.set(name, [...(repoTags.get(name) ?? []), r.tag]);
    }
    for (const d of img.RepoDigests ?? []) {
      if (d === '<none>@<none>') continue;
      const r = parseRef(d);
      if (!r.digest) continue;
      const name = familiarName(r);
      repoDigests.set(name, [...(repoDigests.get(name) ?? []), r.digest]);
    }
    const before = rows.length;
    for (const [repo, tags] of repoTags) {
      const digests = opts.digests ? repoDigests.get(repo) ?? [] : [];
      repoDigests.delete(repo);
      for (const tag of tags) {
        if (digests.length === 0) rows.push(base(repo, tag, '<none>'));
        else for (const d of digests) rows.push(base(repo, tag, d));
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (opts.digests) for (const d of digests) rows.push(base(repo, '<none>', d));
      else rows.push(base(repo, '<none>', '')); // docker leaves the digest empty here (formatter/image.go)
    }
    if (rows.length === before) rows.push(base('<none>', '<none>', '<none>'));
  }
  return rows;
}

/** go-units HumanSize (4 significant digits), docker's VirtualSize column. */
function humanSize4(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

export const imageLs = defineCommand({
  path: ['image', 'ls'],
  aliases: [['images'], ['image', 'list']],
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  summary: 'List images',
  args: { min: 0, max: 1 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all images (default hides intermediate images)' },
    { name: 'digests', type: 'bool', help: 'Show digests' },
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', valueName: 'string', help: 'Pretty-print images using a Go template' },
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
  ],
  spec: ImageLsSpec,
  toSpec(p) {
    return {
      kind: 'image.ls' as const,
      all: p.flags.all as boolean,
      digests: p.flags.digests as boolean,
      noTrunc: p.flags['no-trunc'] as boolean,
      quiet: p.flags.quiet as boolean,
      filters: parseFilters(p.flags.filter as string[], ['dangling', 'label', 'before', 'since', 'reference'], 'images'),
      format: (p.flags.format as string) || undefined,
      reference: p.args[0],
    };
  },
  async run(spec, ctx) {
    const filters = { ...spec.filters };
    if (spec.reference) filters.reference = [...(filters.reference ?? []), spec.reference];
    let images: Docker.ImageInfo[];
    try {
      images = await ctx.docker.listImages({ all: spec.all, filters: JSON.stringify(filters), abortSignal: ctx.signal } as {});
    } catch (err) {
      throw toDockerError(err);
    }
    const rows = imageRows(images, { digests: spec.digests || (spec.format ?? '').includes('.Digest'), noTrunc: spec.noTrunc }, ctx.now());
    const format = spec.quiet ? '{{.ID}}' : spec.format;
    const text = formatRows(rows, { format, defaultFormat: spec.digests ? DEFAULT_DIGESTS : DEFAULT, headers: HEADERS });
    return ok(text, rows);
  },
});
