/**
 * fvbommel/sortorder.NaturalLess, which docker uses to sort `volume ls` and `network ls` by
 * name: runs of digits compare as numbers, everything else bytewise.
 */
export function naturalLess(a: string, b: string): boolean {
  const s1 = Buffer.from(a);
  const s2 = Buffer.from(b);
  const digit = (c: number) => c >= 0x30 && c <= 0x39;
  let i = 0;
  let j = 0;
  while (i < s1.length && j < s2.length) {
    const c1 = s1[i];
    const c2 = s2[j];
    const d1 = digit(c1);
    const d2 = digit(c2);
    if (d1 !== d2) return d1;
    if (!d1) {
      if (c1 !== c2) return c1 < c2;
      i++;
      j++;
      continue;
    }
    while (i < s1.length && s1[i] === 0x30) i++;
    while (j < s2.length && s2[j] === 0x30) j++;
    const nz1 = i;
    const nz2 = j;
    while (i < s1.length && digit(s1[i])) i++;
    while (j < s2.length && digit(s2[j])) j++;
    if (i - nz1 !== j - nz2) return i - nz1 < j - nz2;
    const n1 = s1.subarray(nz1, i).toString('latin1');
    const n2 = s2.subarray(nz2, j).toString('latin1');
    if (n1 !== n2) return n1 < n2;
    if (nz1 !== nz2) return nz1 < nz2;
  }
  // Identical so far: the one that ended first sorts first (Go compares whole lengths).
  return s1.length < s2.length;
}

/** Sorts by name with {@link naturalLess}, as docker's list verbs do. */
export function sortByName<T extends { Name?: string }>(items: T[]): T[] {
  return [...items].sort((x, y) => (naturalLess(x.Name ?? '', y.Name ?? '') ? -1 : naturalLess(y.Name ?? '', x.Name ?? '') ? 1 : 0));
}
