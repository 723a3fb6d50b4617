/**
 * Go's text/tabwriter as the docker CLI configures it:
 * `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)` — minwidth 10, padding 3, space padding, no flags.
 *
 * Go's algorithm is reproduced rather than the simpler "pad each column to its widest cell",
 * because they differ: Go sizes a column over a *column block* — a run of consecutive lines
 * that all have that column — and a line with fewer cells ends the block. Real `docker ps
 * --format 'table …'` output with multi-line cells depends on this.
 */

/** Options of {@link tabwrite}; the defaults are the docker CLI's. */
export interface TabwriteOptions {
  /** Minimal width of a padded cell, padding included. docker: 10. */
  minwidth?: number;
  /** Spaces added to the widest cell of a column block. docker: 3. */
  padding?: number;
  /**
   * Count East Asian wide/fullwidth characters as 2 columns. Off by default because Go's
   * tabwriter counts runes (`utf8.RuneCount`), so real docker output does too; turn it on when
   * alignment in a monospace chat block matters more than byte-for-byte parity with docker.
   */
  eastAsianWidth?: boolean;
}

// East Asian Wide (W) and Fullwidth (F) ranges, condensed from Unicode's EastAsianWidth.txt.
// Good enough for CJK, Hangul, fullwidth forms and emoji; not a complete table.
const WIDE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x23f0, 0x23f0],
  [0x23f3, 0x23f3], [0x25fd, 0x25fe], [0x2614, 0x2615], [0x2648, 0x2653], [0x267f, 0x267f],
  [0x2693, 0x2693], [0x26a1, 0x26a1], [0x26aa, 0x26ab], [0x26bd, 0x26be], [0x26c4, 0x26c5],
  [0x26ce, 0x26ce], [0x26d4, 0x26d4], [0x26ea, 0x26ea], [0x26f2, 0x26f3], [0x26f5, 0x26f5],
  [0x26fa, 0x26fa], [0x26fd, 0x26fd], [0x2705, 0x2705], [0x270a, 0x270b], [0x2728, 0x2728],
  [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757], [0x2795, 0x2797],
  [0x27b0, 0x27b0], [0x27bf, 0x27bf], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55],
  [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf],
  [0xa960, 0xa97f], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f],
  [0xff00, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x16fe4], [0x17000, 0x18aff], [0x1b000, 0x1b2ff],
  [0x1f004, 0x1f004], [0x1f0cf, 0x1f0cf], [0x1f18e, 0x1f18e], [0x1f191, 0x1f19a], [0x1f200, 0x1f251],
  [0x1f300, 0x1f64f], [0x1f680, 0x1f6ff], [0x1f7e0, 0x1f7eb], [0x1f90c, 0x1f9ff], [0x1fa70, 0x1faff],
  [0x20000, 0x2fffd], [0x30000, 0x3fffd],
];

/** Columns one code point occupies: 2 for East Asian wide/fullwidth, else 1 (like docker's charWidth). */
export function runeWidth(cp: number): number {
  if (cp < 0x1100) return 1;
  let lo = 0;
  let hi = WIDE_RANGES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = WIDE_RANGES[mid];
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return 2;
  }
  return 1;
}

/** Display width of a string: code points, with East Asian wide/fullwidth ones counting 2. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += runeWidth(ch.codePointAt(0) ?? 0);
  return w;
}

/** Number of code points, which is what Go's tabwriter measures a cell by. */
function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * Aligns rows of cells like Go's tabwriter with docker's settings. Every cell but the last of
 * a row is padded to max(widest cell of its column block + padding, minwidth); the last cell
 * is written as is. Every output line ends with "\n".
 */
export function tabwrite(lines: string[][], opts: TabwriteOptions = {}): string {
  const rows = lines.map((l) => (l.length === 0 ? [''] : l));
  return render(rows, opts, true);
}

/**
 * Feeds text through the tabwriter as docker does with its table output: lines split on
 * "\n", cells on "\t". A line without a tab is passed through but still ends column blocks.
 * Like Go's Writer.Flush, a final line without "\n" is written without one.
 */
export function tabwriteText(text: string, opts: TabwriteOptions = {}): string {
  if (text === '') return '';
  const parts = text.split('\n');
  const terminated = parts[parts.length - 1] === '';
  if (terminated) parts.pop();
  return render(
    parts.map((p) => p.split('\t')),
    opts,
    terminated,
  );
}

function render(rows: string[][], opts: TabwriteOptions, lastNewline: boolean): string {
  const minwidth = opts.minwidth ?? 10;
  const padding = opts.padding ?? 3;
  const measure = opts.eastAsianWidth ? displayWidth : runeCount;
  const widths = rows.map((r) => r.map(measure));
  const out: string[] = [];

  // Go's Writer.writeLines: pad each cell that belongs to a sized column, write the rest as is.
  function writeLines(line0: number, line1: number, colWidths: number[]): void {
    for (let i = line0; i < line1; i++) {
      const row = rows[i];
      let s = '';
      for (let j = 0; j < row.length; j++) {
        s += row[j];
        if (j < colWidths.length && j < row.length - 1) s += ' '.repeat(colWidths[j] - widths[i][j]);
      }
      out.push(s);
    }
  }

  // Go's Writer.format, kept recursive like the original: find each column block of the
  // next column, size it, then format the columns to its right within that block only.
  function format(line0: number, line1: number, colWidths: number[]): void {
    const column = colWidths.length;
    for (let row = line0; row < line1; row++) {
      // The last cell of a line is not in a column (cells are tab-terminated in Go).
      if (column >= rows[row].length - 1) continue;
      writeLines(line0, row, colWidths);
      line0 = row;
      let width = minwidth;
      for (; row < line1; row++) {
        if (column >= rows[row].length - 1) break;
        width = Math.max(width, widths[row][column] + padding);
      }
      format(line0, row, [...colWidths, width]);
      line0 = row;
    }
    writeLines(line0, line1, colWidths);
  }

  format(0, rows.length, []);
  return out.map((l, i) => (i < out.length - 1 || lastNewline ? `${l}\n` : l)).join('');
}
