/**
 * `key=value` words of repeated flags (--label, -o/--opt) as a map, the way the docker CLI's
 * ConvertKVStringsToMap and MapOpts read them: a word without `=` is a key with an empty value.
 */
export function kvMap(words: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    out[eq >= 0 ? w.slice(0, eq) : w] = eq >= 0 ? w.slice(eq + 1) : '';
  }
  return out;
}

/** pflag's `strings` type: a repeated flag whose values may also be comma-separated. */
export function stringsFlag(values: string[]): string[] {
  return values.flatMap((v) => v.split(',')).filter((v) => v !== '');
}

/** The Labels column of list verbs: `k=v` pairs joined by commas (sorted; docker's map order is random). */
export function joinLabels(labels: Record<string, string> | null | undefined): string {
  return Object.entries(labels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
