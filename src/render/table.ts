import { compileTemplate, parseFormat, unescapeFormat } from './go-template.js';
import { tabwriteText } from './tabwriter.js';
import { UsageError } from '../errors.js';

export interface RowFormat {
  /** The user's --format, if any. `table …` keeps headers; anything else prints raw lines. */
  format?: string;
  /** The verb's default table (docker's defaultXxxTableFormat). */
  defaultFormat: string;
  /** Header text per field, as docker's header contexts have them. */
  headers: Record<string, string>;
}

/**
 * Renders rows the way docker's formatter package does: a `table` template prints a header
 * line and aligns columns with tabwriter; any other template prints one line per row as is.
 */
export function formatRows(rows: object[], opts: RowFormat): string {
  // `table` alone means the default table; `json` (newer CLIs) means one JSON object a line.
  const raw = !opts.format || opts.format === 'table' ? opts.defaultFormat : opts.format === 'json' ? '{{json .}}' : opts.format;
  let exec: (data: unknown) => string;
  let header: (data: unknown) => string;
  let table: boolean;
  try {
    const parsed = parseFormat(unescapeFormat(raw));
    table = parsed.table;
    exec = compileTemplate(parsed.template);
    // docker's header row runs the template with identity functions, so `upper .Names` shows NAMES.
    header = compileTemplate(parsed.template, { header: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const run = (data: unknown, fn = exec) => {
    try {
      return fn(data);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  };
  if (!table) return rows.map((r) => `${run(r)}\n`).join('');
  const lines = [run(opts.headers, header), ...rows.map((r) => run(r))];
  return tabwriteText(lines.map((l) => `${l}\n`).join(''));
}

