import { LineCounter, parseDocument } from 'yaml';

/** "file:line" of the YAML node at `path` (for zod issues), or the file alone. */
export function yamlWhere(file: string, text: string, path: (string | number)[]): string {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  let node: unknown = doc.contents;
  for (const key of path) {
    const n = node as { get?: (k: unknown, keep: boolean) => unknown };
    const next = n?.get?.(key, true);
    if (!next) break;
    node = next;
  }
  const range = (node as { range?: [number] })?.range;
  return range ? `${file}:${lc.linePos(range[0]).line}` : file;
}
