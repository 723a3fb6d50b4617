import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { UsageError, toDockerError } from '../../errors.js';
import { formatRows } from '../../render/table.js';
import { ellipsis } from '../../render/units.js';

export const SearchSpec = z.object({
  kind: z.literal('search'),
  term: z.string().min(1),
  filters: z.record(z.string(), z.array(z.string())),
  limit: z.number().int(),
  noTrunc: z.boolean(),
  format: z.string().optional(),
});
export type SearchSpec = z.infer<typeof SearchSpec>;

/** One result of the engine's /images/search. */
export interface SearchResult {
  name: string;
  description?: string;
  star_count?: number;
  is_official?: boolean;
  is_automated?: boolean;
}

const DEFAULT_FORMAT = 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}\t{{.IsAutomated}}';
const HEADERS = { Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', IsOfficial: 'OFFICIAL', IsAutomated: 'AUTOMATED' };

/** docker 20.10's search output: most stars first, descriptions on one line, cut at 45 columns. */
export function searchText(results: SearchResult[], opts: { noTrunc: boolean; format?: string }): string {
  const sorted = [...results].sort((a, b) => (b.star_count ?? 0) - (a.star_count ?? 0));
  const rows = sorted.map((r) => {
    const desc = (r.description ?? '').replace(/\n/g, ' ').replace(/\r/g, ' ');
    return {
      Name: r.name,
      Description: opts.noTrunc ? desc : ellipsis(desc, 45),
      StarCount: String(r.star_count ?? 0),
      IsOfficial: r.is_official ? '[OK]' : '',
      IsAutomated: r.is_automated ? '[OK]' : '',
    };
  });
  return formatRows(rows, { format: opts.format, defaultFormat: DEFAULT_FORMAT, headers: HEADERS });
}

export const search = defineCommand({
  path: ['search'],
  usage: '[OPTIONS] TERM',
  summary: 'Search Docker Hub for images',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', valueName: 'string', help: 'Pretty-print search using a Go template' },
    { name: 'limit', type: 'int', valueName: 'int', default: 25, help: 'Max number of search results' },
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
  ],
  spec: SearchSpec,
  toSpec(p) {
    // The keys (is-official, is-automated, stars) and values are checked by the engine, with its wording.
    const filters: Record<string, string[]> = {};
    for (const f of p.flags.filter as string[]) {
      const eq = f.indexOf('=');
      if (eq <= 0) throw new UsageError(`invalid argument "${f}" for "-f, --filter" flag: bad format of filter (expected name=value)\nSee 'docker search --help'.`);
      (filters[f.slice(0, eq).trim().toLowerCase()] ??= []).push(f.slice(eq + 1).trim());
    }
    return {
      kind: 'search' as const,
      term: p.args[0],
      filters,
      limit: p.flags.limit as number,
      noTrunc: p.flags['no-trunc'] as boolean,
      format: (p.flags.format as string) || undefined,
    };
  },
  async run(spec, ctx) {
    let results: SearchResult[];
    try {
      const opts: Record<string, unknown> = { term: spec.term, abortSignal: ctx.signal };
      if (spec.limit) opts.limit = spec.limit;
      if (Object.keys(spec.filters).length) opts.filters = JSON.stringify(spec.filters);
      results = (await ctx.docker.searchImages(opts as { term: string })) as unknown as SearchResult[];
    } catch (err) {
      throw toDockerError(err);
    }
    return ok(searchText(results, spec), results);
  },
});
