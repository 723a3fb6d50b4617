import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Replaces (or appends) one `## bench/<name>` section of bench/RESULTS.md, leaving the others. */
export function writeSection(name: string, md: string): void {
  const file = path.join(ROOT, 'bench/RESULTS.md');
  const prev = readFileSync(file, 'utf8');
  const i = prev.indexOf(`\n## bench/${name}`);
  const j = i >= 0 ? prev.indexOf('\n## bench/', i + 5) : -1;
  const kept = i >= 0 ? prev.slice(0, i) + (j >= 0 ? prev.slice(j) : '') : prev;
  writeFileSync(file, `${kept.trimEnd()}\n${md}`);
}

export const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

/** The p-quantile (0..1) of a sample, nearest rank. */
export function quantile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}
