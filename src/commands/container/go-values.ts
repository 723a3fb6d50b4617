/**
 * Values as the docker CLI's Go code reads them, with Go's own error words: time.ParseDuration,
 * strconv.ParseInt/ParseUint in base 10, net.ParseIP and net.ParseMAC.
 */

const UNIT_NS: Record<string, bigint> = { ns: 1n, us: 1000n, 'µs': 1000n, 'μs': 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };

/** Go's time.ParseDuration in nanoseconds, or Go's error text. */
export function goDurationNs(orig: string): number | string {
  const invalid = `time: invalid duration "${orig}"`;
  let s = orig;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return invalid;
  let total = 0n;
  while (s !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s) as RegExpExecArray;
    const [whole, int = '', frac] = num;
    if (int === '' && (frac === undefined || frac === '')) return invalid;
    s = s.slice(whole.length);
    const unit = /^[^0-9.]*/.exec(s)?.[0] ?? '';
    if (unit === '') return `time: missing unit in duration "${orig}"`;
    const ns = UNIT_NS[unit];
    if (ns === undefined) return `time: unknown unit "${unit}" in duration "${orig}"`;
    s = s.slice(unit.length);
    total += BigInt(int || '0') * ns;
    // Go adds the fraction truncated to whole nanoseconds.
    if (frac) total += (BigInt(frac) * ns) / 10n ** BigInt(frac.length);
    if (total > 2n ** 63n - 1n) return invalid;
  }
  return Number(neg ? -total : total);
}

/** strconv.ParseInt(s, 10, 64), or Go's error text. */
export function goParseInt10(raw: string): number | string {
  if (!/^[+-]?\d+$/.test(raw)) return `strconv.ParseInt: parsing "${raw}": invalid syntax`;
  const v = BigInt(raw);
  if (v > 2n ** 63n - 1n || v < -(2n ** 63n)) return `strconv.ParseInt: parsing "${raw}": value out of range`;
  return Number(v);
}

/** strconv.ParseUint(s, 10, 16), or Go's error text. */
export function goParseUint16(raw: string): number | string {
  if (!/^\d+$/.test(raw)) return `strconv.ParseUint: parsing "${raw}": invalid syntax`;
  if (BigInt(raw) > 65535n) return `strconv.ParseUint: parsing "${raw}": value out of range`;
  return Number(raw);
}

function ipv4Bytes(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    // Go 1.17+ refuses leading zeros ("010.0.0.1").
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith('0')) || Number(p) > 255) return undefined;
    out.push(Number(p));
  }
  return out;
}

/** net.ParseIP(...).String(): the canonical text of an IPv4 or IPv6 address, or undefined. */
export function canonicalIp(raw: string): string | undefined {
  const v4 = ipv4Bytes(raw);
  if (v4) return v4.join('.');
  if (!raw.includes(':') || /[^0-9a-fA-F:.]/.test(raw)) return undefined;
  let text = raw;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const b = ipv4Bytes(text.slice(lastColon + 1));
    if (!b) return undefined;
    tail = [(b[0] << 8) | b[1], (b[2] << 8) | b[3]];
    const prefix = text.slice(0, lastColon + 1);
    text = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string) => (h === '' ? [] : h.split(':'));
  const head = group(halves[0]);
  const rest = halves.length === 2 ? group(halves[1]) : [];
  const all = [...head, ...rest];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const words = all.map((g) => parseInt(g, 16));
  const have = words.length + tail.length;
  if (halves.length === 1 ? have !== 8 : have > 7) return undefined;
  const full = halves.length === 2 ? [...head.map((g) => parseInt(g, 16)), ...Array(8 - have).fill(0), ...rest.map((g) => parseInt(g, 16)), ...tail] : [...words, ...tail];
  // An IPv4-mapped address prints as IPv4, as Go does.
  if (full.slice(0, 5).every((w) => w === 0) && full[5] === 0xffff) return `${full[6] >> 8}.${full[6] & 255}.${full[7] >> 8}.${full[7] & 255}`;
  // RFC 5952: the longest run (2 or more) of zero words becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && full[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = full.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** net.ParseMAC: 6, 8 or 20 octets with ':' or '-', or groups of four hex digits with '.'. */
export function isMac(raw: string): boolean {
  for (const sep of [':', '-']) {
    const parts = raw.split(sep);
    if ([6, 8, 20].includes(parts.length) && parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return true;
  }
  const dotted = raw.split('.');
  return [3, 4, 10].includes(dotted.length) && dotted.every((p) => /^[0-9a-fA-F]{4}$/.test(p));
}
