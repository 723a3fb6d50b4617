import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { buildIndexKey, readSuperseded } from '../../builds/records.js';
import { buildView, removedBuildView, type BuildView } from '../../builds/view.js';
import { formatRows } from '../../render/table.js';
import { humanDuration } from '../../render/units.js';
import { UsageError } from '../../errors.js';

export const BuildsLsSpec = z.object({
  kind: z.literal('builds.ls'),
  repo: z.string().optional(),
  limit: z.number().int().min(1).max(1000),
  format: z.string().optional(),
  quiet: z.boolean(),
  noTrunc: z.boolean(),
});
export type BuildsLsSpec = z.infer<typeof BuildsLsSpec>;

const DEFAULT_FORMAT = 'table {{.ID}}\t{{.Repository}}\t{{.Ref}}\t{{.Commit}}\t{{.State}}\t{{.Tags}}\t{{.Digest}}\t{{.Duration}}\t{{.Created}}';
const HEADERS = { ID: 'BUILD ID', Repository: 'REPOSITORY', Ref: 'REF', Commit: 'COMMIT', State: 'STATE', Tags: 'TAGS', Digest: 'DIGEST', Duration: 'DURATION', Created: 'CREATED', Reason: 'REASON', Host: 'HOST' };

/** Seconds as a build's duration reads best: "42s", "3m05s". */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

function row(v: BuildView, now: number, noTrunc: boolean) {
  const end = v.finishedAt ?? (v.startedAt ? now : undefined);
  return {
    ID: v.id,
    Host: v.host,
    Repository: v.repository,
    Ref: v.sourceref,
    Commit: noTrunc ? v.sha : v.sha.slice(0, 7),
    State: v.state === 'superseded' && v.supersededBy ? `superseded by ${v.supersededBy.slice(0, 7)}` : v.state,
    Tags: v.tags.map((t) => t.slice(t.lastIndexOf(':') + 1)).join(','),
    Digest: v.digest ? (noTrunc ? v.digest : v.digest.slice(0, 19)) : '',
    Duration: v.startedAt && end ? duration(end - v.startedAt) : '',
    Created: `${humanDuration(now - v.createdAt)} ago`,
    Reason: v.reason ?? '',
  };
}

/** Recent builds, newest first: state, tags, digest, duration. */
export const buildsLs = defineCommand({
  path: ['builds', 'ls'],
  aliases: [['builds', 'list']],
  usage: '[OPTIONS]',
  summary: 'List recent builds started by GitHub pushes',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'repo', type: 'string', valueName: 'string', help: 'Only builds of this repository (OWNER/REPO)' },
    { name: 'limit', short: 'n', type: 'int', valueName: 'int', default: 20, help: 'Show at most this many builds' },
    { name: 'format', type: 'string', valueName: 'string', help: 'Format output using a custom template' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display build IDs' },
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
  ],
  spec: BuildsLsSpec,
  toSpec(p) {
    const limit = p.flags.limit as number;
    if (limit < 1 || limit > 1000) throw new UsageError(`invalid argument "${limit}" for "-n, --limit" flag: between 1 and 1000\nSee 'docker builds ls --help'.`);
    return { kind: 'builds.ls' as const, repo: (p.flags.repo as string) || undefined, limit, format: (p.flags.format as string) || undefined, quiet: p.flags.quiet as boolean, noTrunc: p.flags['no-trunc'] as boolean };
  },
  async run(spec, ctx) {
    const ids = await ctx.redis.lrange(buildIndexKey(ctx.prefix), 0, -1);
    const seen = new Set<string>();
    const views: BuildView[] = [];
    const wanted = spec.repo?.toLowerCase();
    for (const id of ids) {
      if (views.length >= spec.limit) break;
      if (seen.has(id)) continue;
      seen.add(id);
      const [job, sup] = await Promise.all([ctx.jobs.get(id).catch(() => undefined), readSuperseded(ctx.redis, ctx.prefix, id)]);
      const v = job ? await buildView(job, sup) : sup ? removedBuildView(id, sup) : undefined;
      if (!v || (wanted && v.repository.toLowerCase() !== wanted)) continue;
      views.push(v);
    }
    const now = ctx.now();
    const rows = views.map((v) => row(v, now, spec.noTrunc));
    const text = spec.quiet ? rows.map((r) => `${r.ID}\n`).join('') : formatRows(rows, { format: spec.format, defaultFormat: DEFAULT_FORMAT, headers: HEADERS });
    return ok(text, { builds: views });
  },
});
