import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { toDockerError } from '../../errors.js';
import { formatRows } from '../../render/table.js';
import { ellipsis, humanDuration, humanSize, truncateId } from '../../render/units.js';

export const ImageHistorySpec = z.object({
  kind: z.literal('image.history'),
  image: z.string().min(1),
  human: z.boolean(),
  noTrunc: z.boolean(),
  quiet: z.boolean(),
  format: z.string().optional(),
});
export type ImageHistorySpec = z.infer<typeof ImageHistorySpec>;

const DEFAULT = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const NON_HUMAN = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const HEADERS = {
  Comment: 'COMMENT',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  CreatedSince: 'CREATED',
  ID: 'IMAGE',
  Size: 'SIZE',
};

/** One layer as the engine's GET /images/{name}/history gives it. */
export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** One row of `docker history`, with the fields its Go templates offer (keys sorted, as docker's JSON). */
export interface HistoryRow {
  Comment: string;
  CreatedAt: string;
  CreatedBy: string;
  CreatedSince: string;
  ID: string;
  Size: string;
}

/** time.Unix(s, 0).Format(time.RFC3339) in UTC: "2026-11-29T05:22:27Z". */
function rfc3339(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** docker's historyContext: truncation, human sizes and times, tabs in CREATED BY turned into spaces. */
export function historyRows(items: HistoryItem[], opts: { human: boolean; noTrunc: boolean }, nowMs: number): HistoryRow[] {
  const trunc = !opts.noTrunc;
  return items.map((h) => {
    const createdAt = rfc3339(h.Created);
    const createdBy = h.CreatedBy.replace(/\t/g, ' ');
    return {
      Comment: h.Comment,
      CreatedAt: createdAt,
      CreatedBy: trunc ? ellipsis(createdBy, 45) : createdBy,
      CreatedSince: opts.human ? `${humanDuration(nowMs - h.Created * 1000)} ago` : createdAt,
      ID: trunc ? truncateId(h.Id) : h.Id,
      Size: opts.human ? humanSize(h.Size) : String(h.Size),
    };
  });
}

export const imageHistory = defineCommand({
  path: ['image', 'history'],
  aliases: [['history']],
  usage: '[OPTIONS] IMAGE',
  summary: 'Show the history of an image',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'format', type: 'string', valueName: 'string', help: 'Pretty-print images using a Go template' },
    { name: 'human', short: 'H', type: 'bool', default: true, help: 'Print sizes and dates in human readable format (default true)' },
    { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
  ],
  spec: ImageHistorySpec,
  toSpec(p) {
    return {
      kind: 'image.history' as const,
      image: p.args[0],
      human: p.flags.human as boolean,
      noTrunc: p.flags['no-trunc'] as boolean,
      quiet: p.flags.quiet as boolean,
      format: (p.flags.format as string) || undefined,
    };
  },
  async run(spec, ctx) {
    let items: HistoryItem[];
    try {
      // dockerode's history() takes no options (so no abort signal): the call is short.
      items = (await ctx.docker.getImage(spec.image).history()) as HistoryItem[];
    } catch (err) {
      // docker history passes the daemon's words through ("No such image: x:latest").
      throw toDockerError(err);
    }
    const rows = historyRows(items, spec, ctx.now());
    // As docker's NewHistoryFormat: -q and -H=false only change the default table.
    const isTable = !spec.format || spec.format === 'table';
    const format = isTable && spec.quiet ? '{{.ID}}' : spec.format;
    const text = formatRows(rows, { format, defaultFormat: spec.human ? DEFAULT : NON_HUMAN, headers: HEADERS });
    return ok(text, rows);
  },
});
