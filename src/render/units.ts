/**
 * Human-readable sizes, durations and ids exactly as the docker CLI prints them
 * (github.com/docker/go-units, stringid, and the CLI's formatter helpers).
 */
import { runeWidth } from './tabwriter.js';

/** Decimal digits of a finite non-negative double: value = 0.d1d2d3… × 10^dp (Go's strconv `decimal`). */
interface Digits {
  d: string;
  dp: number;
}

/**
 * The exact decimal expansion of a double. Needed because Go rounds an exact tie to even
 * (`%.3g` of 4.125 is "4.12") while JS's toPrecision rounds ties up ("4.13").
 */
function exactDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biasedExp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let exp: number;
  if (biasedExp === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = biasedExp - 1075;
  }
  // x = mant × 2^exp; for exp < 0 that is mant × 5^-exp / 10^-exp, an exact decimal.
  const int = exp >= 0 ? mant << BigInt(exp) : mant * 5n ** BigInt(-exp);
  const s = int.toString();
  const dp = s.length + Math.min(exp, 0);
  return trimZeros({ d: s, dp });
}

function trimZeros(v: Digits): Digits {
  const d = v.d.replace(/0+$/, '');
  return d === '' ? { d: '', dp: 0 } : { d, dp: v.dp };
}

/** Rounds to `nd` significant digits, ties to even when exactly halfway (Go's decimal.Round). */
function roundDigits(v: Digits, nd: number): Digits {
  if (nd < 0 || nd >= v.d.length) return v;
  const next = v.d.charCodeAt(nd) - 48;
  let up = next > 5;
  if (next === 5) up = nd + 1 < v.d.length || (nd > 0 && (v.d.charCodeAt(nd - 1) - 48) % 2 === 1);
  if (!up) return trimZeros({ d: v.d.slice(0, nd), dp: v.dp });
  const digits = v.d.slice(0, nd).split('').map(Number);
  let i = nd - 1;
  while (i >= 0 && digits[i] === 9) digits[i--] = 0;
  if (i < 0) return { d: '1', dp: v.dp + 1 };
  digits[i]++;
  return trimZeros({ d: digits.join(''), dp: v.dp });
}

/** Shortest digits that round-trip, which is what Go's precision -1 produces. */
function shortestDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const [m, e] = x.toExponential().split('e');
  return trimZeros({ d: m.replace('.', ''), dp: Number(e) + 1 });
}

function digitAt(v: Digits, i: number): string {
  return i >= 0 && i < v.d.length ? v.d[i] : '0';
}

/**
 * Go's `%.*g` (strconv.FormatFloat(x, 'g', prec, 64)); prec < 0 means shortest, as `%v` does.
 * Exponent form when exp < -4 || exp >= precision, written like "1e+03"; trailing zeros dropped.
 */
export function formatFloatG(x: number, prec = -1): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const shortest = prec < 0;
  let p = prec === 0 ? 1 : prec;
  const digs = shortest ? shortestDigits(Math.abs(x)) : roundDigits(exactDigits(Math.abs(x)), p);
  if (shortest) p = digs.d.length;
  let eprec = p;
  if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
  if (shortest) eprec = 6;
  const exp = digs.dp - 1;
  let body: string;
  if (exp < -4 || exp >= eprec) {
    // %e with prec-1 decimals, never more digits than we have.
    const decimals = Math.min(p, digs.d.length) - 1;
    const e = digs.d.length === 0 ? 0 : exp;
    body = digitAt(digs, 0);
    if (decimals > 0) {
      body += '.';
      for (let i = 1; i <= decimals; i++) body += digitAt(digs, i);
    }
    body += (e < 0 ? 'e-' : 'e+') + String(Math.abs(e)).padStart(2, '0');
  } else {
    if (p > digs.dp) p = digs.d.length;
    const decimals = Math.max(p - digs.dp, 0);
    body = digs.dp > 0 ? digs.d.slice(0, digs.dp).padEnd(digs.dp, '0') : '0';
    if (decimals > 0) {
      body += '.';
      for (let i = 0; i < decimals; i++) body += digitAt(digs, digs.dp + i);
    }
  }
  return neg ? `-${body}` : body;
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

// go-units getSizeAndUnit + Sprintf("%.*g%s"): divide while >= base, stopping at the largest unit.
function scaled(size: number, base: number, units: string[], prec: number): string {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return formatFloatG(size, prec) + units[i];
}

/**
 * go-units HumanSizeWithPrecision: decimal units, `%.3g` by default ("1.98MB", "4.1kB", "0B").
 * docker uses precision 3 for SIZE columns and 4 (go-units HumanSize) for VirtualSize.
 */
export function humanSize(bytes: number, precision = 3): string {
  return scaled(bytes, 1000, DECIMAL_UNITS, precision);
}

/** go-units BytesSize: binary units with `%.4g`, as `docker info` prints Total Memory ("23.54GiB"). */
export function bytesSize(bytes: number): string {
  return scaled(bytes, 1024, BINARY_UNITS, 4);
}

const SECOND = 1e9;
const HOUR = 3600 * SECOND;

/**
 * go-units HumanDuration ("Less than a second", "About a minute", "3 hours", "2 weeks"…),
 * the text of CREATED and STATUS columns. Input in milliseconds; like Go's time.Duration it is
 * taken as whole nanoseconds, and Duration.Round(time.Hour) rounds halves away from zero.
 */
export function humanDuration(ms: number): string {
  const ns = Math.trunc(ms * 1e6);
  const seconds = Math.trunc(ns / SECOND);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ns / (60 * SECOND));
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const rem = ns % HOUR;
  const hours = (ns - rem) / HOUR + (rem + rem >= HOUR ? 1 : 0);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  // Go divides the truncated hours here, not the rounded ones: int(d.Hours())/24/365.
  return `${Math.trunc(Math.trunc(ns / HOUR) / 24 / 365)} years`;
}

/**
 * docker's stringid.TruncateID: drop an algorithm prefix ("sha256:") and keep 12 characters.
 */
export function truncateId(id: string): string {
  const colon = id.indexOf(':');
  const bare = colon >= 0 ? id.slice(colon + 1) : id;
  return bare.length > 12 ? bare.slice(0, 12) : bare;
}

/**
 * The docker CLI's formatter.Ellipsis: if `s` fits in `max` display columns return it, else cut
 * to max-1 columns and append "…". Wide (East Asian) characters count 2, like docker's charWidth.
 */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const rs = Array.from(s);
  if (max === 1) return rs[0] ?? '';
  const widths = rs.map((r) => runeWidth(r.codePointAt(0) ?? 0));
  const total = widths.reduce((a, b) => a + b, 0);
  if (total <= max) return s;
  let acc = 0;
  for (let i = 0; i < rs.length; i++) {
    acc += widths[i];
    if (acc > max - 1) {
      // Go quirk kept on purpose: when even the first character is wider than max-1, docker
      // finds no cut point and returns the string unchanged.
      return i === 0 ? s : `${rs.slice(0, i).join('')}…`;
    }
  }
  return s;
}
