import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
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

/**
 * Reads every `*.yml` / `*.yaml` of a directory (jobs/), in name order, and checks each against
 * `schema`; `use` gets what parsed, with `where(path)` giving "file:line" for its own checks. Every
 * problem names its file and line; they are thrown together, under `title`, after all files are read.
 * A directory that is not there holds nothing.
 */
export function readYamlDir<T>(
  dir: string,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } },
  title: string,
  use: (data: T, where: (path: (string | number)[]) => string, problems: string[]) => void,
): void {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch {
    return;
  }
  const problems: string[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    const text = readFileSync(file, 'utf8');
    const doc = parseDocument(text);
    if (doc.errors.length) {
      problems.push(`  ${file}: ${doc.errors[0]!.message}`);
      continue;
    }
    const parsed = schema.safeParse(doc.toJS() ?? {});
    if (!parsed.success) {
      for (const i of parsed.error.issues) problems.push(`  ${yamlWhere(file, text, i.path as (string | number)[])}: ${i.path.join('.')}: ${i.message}`);
      continue;
    }
    use(parsed.data, (p) => yamlWhere(file, text, p), problems);
  }
  if (problems.length) throw new Error(`${title}:\n${problems.join('\n')}`);
}
