/** Go's `time.Time.String()` in UTC, as docker prints CreatedAt: "2026-11-29 05:22:27 +0000 UTC". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 UTC`;
}

/** Go's time.ANSIC layout ("Thu May  7 21:09:36 2026"), which `docker version` uses for Built. */
export function ansic(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** Go duration text ("10m", "1h30m", "1.5h", "300ms") in milliseconds, or undefined. */
export function parseGoDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(s);
  if (!m || s === '0') return s === '0' ? undefined : undefined;
  let total = 0;
  for (const part of s.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * units[part[2]];
  }
  return m[1] === '-' ? -total : total;
}

/**
 * docker's timetypes.GetTimestamp: `--since 10m` (relative to now), a Unix timestamp, an
 * RFC 3339 date or date-time. Returns the seconds value the Engine API takes.
 */
export function toEngineTimestamp(value: string, nowMs: number): string | undefined {
  const d = parseGoDuration(value);
  if (d !== undefined) return String(Math.floor((nowMs - d) / 1000));
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  const hasZone = /[zZ+]/.test(value) || (value.match(/-/g) ?? []).length === 3;
  const ms = Date.parse(hasZone ? value : `${value.includes('T') ? value : `${value}T00:00:00`}Z`);
  if (Number.isNaN(ms)) return undefined;
  return (ms / 1000).toFixed(9);
}

/**
 * A time to live as people write it in configuration and requests: a Go duration ("24h",
 * "90m"), days ("7d"), or plain seconds ("3600"). Milliseconds, or undefined when unreadable.
 */
export function parseTtl(s: string): number | undefined {
  const t = s.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const days = /^(\d+(?:\.\d+)?)d$/.exec(t);
  if (days) return Number(days[1]) * 86_400_000;
  const d = parseGoDuration(t);
  return d !== undefined && d >= 0 ? d : undefined;
}
