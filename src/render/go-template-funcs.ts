/**
 * Values and functions of docker's --format templates: Go's fmt `%v` printing of values, the
 * functions the docker CLI registers (templates.basicFunctions) and the text/template builtins.
 */
import { GoDuration, GoFileMode, GoMap, GoPtr, GoValue, JsonNumber, formatValue } from './go-value.js';
import { formatFloatG } from './units.js';

export { formatValue } from './go-value.js';

type ParamType = 'string' | 'int' | 'list' | 'any';

/** A template function: fixed parameters, optionally a variadic tail, and the implementation. */
export interface FuncDef {
  params: ParamType[];
  variadic?: boolean;
  fn: (...args: any[]) => unknown;
}

/** A function argument of the wrong type; `index` says which, so the error can point at it. */
export class FuncArgError extends Error {
  constructor(
    readonly index: number,
    readonly want: string,
    message: string,
  ) {
    super(message);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Marks an object as standing for a Go value of a named type: `name` shows in error messages
 * ("can't evaluate field X in type *formatter.imageContext"); `row: true` makes `json` marshal
 * it as docker's row contexts do (keys sorted, <>& escaped) wherever it sits, for data that
 * holds rows, such as `system df -v`'s sections.
 */
export const GO_TYPE: unique symbol = Symbol('goType');
type GoTyped = { [GO_TYPE]?: { name: string; row?: boolean } };
const goTypeOf = (v: unknown) => (typeof v === 'object' && v !== null ? (v as GoTyped)[GO_TYPE] : undefined);

/** The Go type name docker would show for a value, for error messages ("can't evaluate field X in type string"). */
export function goTypeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (v instanceof GoValue || v instanceof GoMap) return v.goType;
  const typed = goTypeOf(v);
  if (typed) return typed.name;
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'bigint') return 'int64';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'function') return 'func()';
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Date) return 'time.Time';
  if (v instanceof Map || isPlainObject(v)) return 'map[string]interface {}';
  return (v as object).constructor?.name ?? 'interface {}';
}

/** Go template truth: false, 0, nil, and empty strings/slices/maps are false. */
export function isTrue(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (v instanceof GoPtr) return v.elem !== null;
  if (v instanceof GoDuration) return v.ns !== 0;
  if (v instanceof GoFileMode) return v.mode !== 0;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

/**
 * Go's JSON encoding of a value, as docker's `json` template function does it: a json.Encoder
 * with SetEscapeHTML(false), so "<&>" stays as is, but U+2028/U+2029 and \b \f are spelled
 * Go's way. Object keys keep their order, matching docker inspect's struct field order.
 *
 * `rowContext` reproduces `{{json .}}` of a ps/images/… row instead: docker's row contexts
 * implement MarshalJSON by building a map and calling json.Marshal, so keys come out sorted
 * and <, >, & are escaped as \u003c \u003e \u0026 (as in `"Digest":"\u003cnone\u003e"`).
 */
export function goJson(v: unknown, rowContext = false): string {
  if (goTypeOf(v)?.row) rowContext = true;
  else if (goTypeOf(v) || (Array.isArray(v) && v.some((x) => goTypeOf(x)?.row))) return goJsonHolder(v);
  let s: string | undefined;
  let value = v === undefined ? null : v;
  if (rowContext && isPlainObject(value)) {
    const obj = value;
    value = Object.fromEntries(Object.keys(obj).sort().map((k) => [k, obj[k]]));
  }
  try {
    s = JSON.stringify(value, (_k, val: unknown) =>
      val instanceof Map ? Object.fromEntries(val) : val instanceof Set ? [...val] : val,
    );
  } catch {
    return ''; // docker ignores the encoder's error and prints the empty result
  }
  if (s === undefined) return 'null';
  const map: Record<string, string> = { '\u2028': '\\u2028', '\u2029': '\\u2029', '\\b': '\\u0008', '\\f': '\\u000c' };
  if (rowContext) Object.assign(map, { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026' });
  // Walk escapes as units so a literal backslash before "b" is not mistaken for "\b".
  return s.replace(/\\u[0-9a-fA-F]{4}|\\.|[<>&\u2028\u2029]/g, (m) => map[m] ?? m);
}

/** A struct or slice that holds row contexts: its own keys in order, each row marshalled as a row. */
function goJsonHolder(v: unknown): string {
  if (goTypeOf(v)?.row) return goJson(v, true);
  if (Array.isArray(v)) return `[${v.map(goJsonHolder).join(',')}]`;
  if (typeof v === 'object' && v !== null && !(v instanceof Map) && !(v instanceof Set) && !(v instanceof Date)) {
    const fields = Object.entries(v).filter(([, x]) => x !== undefined && typeof x !== 'function');
    return `{${fields.map(([k, x]) => `${goJson(k)}:${goJsonHolder(x)}`).join(',')}}`;
  }
  return goJson(v);
}

// strconv.Quote, close enough: JSON's escaping with Go's spellings for control characters.
function goQuote(s: string): string {
  return JSON.stringify(s)
    .replace(/\\u00([01][0-9a-f])/g, (_m, h: string) => ({ '07': '\\a', '0b': '\\v' })[h] ?? `\\x${h}`)
    .replace(/\u007f/g, '\\x7f')
    .replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function badVerb(verb: string, a: unknown): string {
  return `%!${verb}(${goTypeName(a)}=${formatValue(a)})`;
}

/** A subset of Go's fmt.Sprintf: verbs v s q d f e g t x X c and %%, flags - + 0, width, precision. */
export function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  let out = format.replace(/%([-+# 0]*)(\d+)?(?:\.(\d*))?([a-zA-Z%])/g, (_m, flags: string, width?: string, prec?: string, verb = '') => {
    if (verb === '%') return '%';
    if (n >= args.length) return `%!${verb}(MISSING)`;
    const a = args[n++];
    const p = prec === undefined ? undefined : Number(prec || 0);
    const num = typeof a === 'number';
    const int = num && Number.isInteger(a);
    let s: string;
    switch (verb) {
      case 'v':
        s = formatValue(a);
        break;
      case 's':
        s = typeof a === 'string' ? a : formatValue(a);
        if (p !== undefined) s = Array.from(s).slice(0, p).join('');
        break;
      case 'q':
        s = typeof a === 'string' ? goQuote(a) : int ? `'${String.fromCodePoint(a)}'` : badVerb(verb, a);
        break;
      case 'd':
        s = int ? BigInt(a).toString() : badVerb(verb, a);
        break;
      case 'f':
      case 'F':
        s = num ? a.toFixed(p ?? 6) : badVerb(verb, a);
        break;
      case 'e':
        s = num ? a.toExponential(p ?? 6).replace(/e([+-])(\d)$/, 'e$10$2') : badVerb(verb, a);
        break;
      case 'g':
        s = num ? formatFloatG(a, p ?? -1) : badVerb(verb, a);
        break;
      case 't':
        s = typeof a === 'boolean' ? String(a) : badVerb(verb, a);
        break;
      case 'x':
      case 'X':
        s = int ? a.toString(16) : typeof a === 'string' ? Buffer.from(a).toString('hex') : badVerb(verb, a);
        if (verb === 'X') s = s.toUpperCase();
        break;
      case 'c':
        s = int ? String.fromCodePoint(a) : badVerb(verb, a);
        break;
      default:
        s = badVerb(verb, a);
    }
    if (flags.includes('+') && num && a >= 0 && 'dfeg'.includes(verb)) s = `+${s}`;
    const w = Number(width ?? 0) - Array.from(s).length;
    if (w <= 0) return s;
    if (flags.includes('-')) return s + ' '.repeat(w);
    if (flags.includes('0') && num) return s.replace(/^([+-]?)/, `$1${'0'.repeat(w)}`);
    return ' '.repeat(w) + s;
  });
  if (n < args.length) out += `%!(EXTRA ${args.slice(n).map((a) => `${goTypeName(a)}=${formatValue(a)}`).join(', ')})`;
  return out;
}

// Go's fmt.Sprint: a space between operands when neither is a string.
function sprint(args: unknown[]): string {
  return args.map((a, i) => (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string' ? ' ' : '') + formatValue(a)).join('');
}

// Go maps runes one to one; JS may expand ("ß".toUpperCase() is "SS"), so keep such runes.
function mapRunes(s: string, f: (c: string) => string): string {
  return Array.from(s, (c) => {
    const m = f(c);
    return Array.from(m).length === 1 ? m : c;
  }).join('');
}

// strings.Title: upper-case each letter that follows a separator (not letter, digit or "_").
function title(s: string): string {
  let prevSep = true;
  return Array.from(s, (c) => {
    const out = prevSep ? mapRunes(c, (x) => x.toUpperCase()) : c;
    prevSep = c <= '\x7f' ? !/[A-Za-z0-9_]/.test(c) : !/[\p{L}\p{Nd}]/u.test(c) && /\s/u.test(c);
    return out;
  }).join('');
}

function compare(a: unknown, b: unknown, op: string): boolean {
  // A time.Duration is an int64 to Go's comparisons.
  if (a instanceof GoDuration) a = a.ns;
  if (b instanceof GoDuration) b = b.ns;
  // A json.Number is a string to Go.
  if (a instanceof JsonNumber) a = a.text;
  if (b instanceof JsonNumber) b = b.text;
  const kind = (v: unknown) => (typeof v === 'number' || typeof v === 'bigint' ? 'number' : typeof v);
  if (op !== 'eq' && !['number', 'string'].includes(kind(a))) throw new Error('invalid type for comparison');
  if (a === undefined || a === null || b === undefined || b === null) {
    if (op === 'eq') return (a ?? null) === (b ?? null);
    throw new Error('invalid type for comparison');
  }
  if (typeof a === 'object' || typeof b === 'object') throw new Error(`non-comparable type ${formatValue(a)}: ${goTypeName(a)}`);
  if (kind(a) !== kind(b)) throw new Error('incompatible types for comparison');
  const x = a as number | string;
  const y = b as number | string;
  return op === 'eq' ? x === y : op === 'lt' ? x < y : op === 'le' ? x <= y : op === 'gt' ? x > y : x >= y;
}

/** Pointers followed, as Go's indirect does; a nil one is reported by the caller. */
function deref(v: unknown): unknown {
  while (v instanceof GoPtr && v.elem !== null) v = v.elem;
  return v;
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const k of keys) {
    if (v === undefined || v === null) throw new Error('index of untyped nil');
    v = deref(v);
    if (v instanceof GoPtr) throw new Error('index of nil pointer');
    if (Array.isArray(v) || typeof v === 'string') {
      const seq = typeof v === 'string' ? Buffer.from(v) : v;
      if (typeof k !== 'number' || !Number.isInteger(k)) throw new Error(`cannot index slice/array with type ${goTypeName(k)}`);
      // Go 1.19 (docker 20.10's) checks the index against len inclusively, so index == len
      // reaches reflect and panics with its own words.
      if (k < 0 || k > seq.length) throw new Error(`index out of range: ${k}`);
      if (k === seq.length) throw new Error(`reflect: ${typeof v === 'string' ? 'string' : 'slice'} index out of range`);
      v = seq[k];
    } else if (v instanceof GoMap) v = v.has(String(k)) ? v.get(String(k)) : v.zero;
    else if (v instanceof Map) v = v.get(k);
    else if (isPlainObject(v)) v = v[String(k)];
    else throw new Error(`can't index item of type ${goTypeName(v)}`);
  }
  return v;
}

function len(v: unknown): number {
  v = deref(v);
  if (v instanceof GoPtr) throw new Error('len of nil pointer');
  if (v instanceof JsonNumber) return v.text.length;
  if (typeof v === 'string') return Buffer.byteLength(v); // Go's len counts bytes
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map || v instanceof Set) return v.size;
  if (isPlainObject(v)) return Object.keys(v).length;
  throw new Error(`len of type ${goTypeName(v)}`);
}

/** Functions docker's templates have: docker's basicFunctions plus Go's builtins. */
export const FUNCS: Readonly<Record<string, FuncDef>> = {
  json: { params: ['any'], fn: (v: unknown) => goJson(v) },
  split: { params: ['string', 'string'], fn: (s: string, sep: string) => (sep === '' ? Array.from(s) : s.split(sep)) },
  join: { params: ['list', 'string'], fn: (l: unknown[], sep: string) => l.map(formatValue).join(sep) },
  title: { params: ['string'], fn: title },
  lower: { params: ['string'], fn: (s: string) => mapRunes(s, (c) => c.toLowerCase()) },
  upper: { params: ['string'], fn: (s: string) => mapRunes(s, (c) => c.toUpperCase()) },
  // docker's padWithSpace: an empty string stays empty so empty columns stay narrow.
  pad: { params: ['string', 'int', 'int'], fn: (s: string, pre: number, post: number) => (s === '' ? s : ' '.repeat(Math.max(pre, 0)) + s + ' '.repeat(Math.max(post, 0))) },
  truncate: {
    params: ['string', 'int'],
    fn: (s: string, n: number) => {
      if (n < 0) throw new Error(`runtime error: slice bounds out of range [:${n}]`);
      const rs = Array.from(s);
      return rs.length < n ? s : rs.slice(0, n).join('');
    },
  },
  print: { params: [], variadic: true, fn: (...a: unknown[]) => sprint(a) },
  println: { params: [], variadic: true, fn: (...a: unknown[]) => `${a.map(formatValue).join(' ')}\n` },
  printf: { params: ['string'], variadic: true, fn: (f: string, ...a: unknown[]) => sprintf(f, a) },
  len: { params: ['any'], fn: len },
  index: { params: ['any'], variadic: true, fn: index },
  not: { params: ['any'], fn: (v: unknown) => !isTrue(v) },
  and: { params: ['any'], variadic: true, fn: (...a: unknown[]) => a.find((v) => !isTrue(v)) ?? a[a.length - 1] },
  or: { params: ['any'], variadic: true, fn: (...a: unknown[]) => a.find((v) => isTrue(v)) ?? a[a.length - 1] },
  eq: {
    params: ['any'],
    variadic: true,
    fn: (a: unknown, ...rest: unknown[]) => {
      if (rest.length === 0) throw new Error('missing argument for comparison');
      return rest.some((b) => compare(a, b, 'eq'));
    },
  },
  ne: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => !compare(a, b, 'eq') },
  lt: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => compare(a, b, 'lt') },
  le: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => compare(a, b, 'le') },
  gt: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => compare(a, b, 'gt') },
  ge: { params: ['any', 'any'], fn: (a: unknown, b: unknown) => compare(a, b, 'ge') },
};

function first(v: unknown): unknown {
  return v;
}

/**
 * docker's HeaderFunctions: when rendering a table header, these return their first argument
 * unchanged so `{{upper .Names}}` still shows the header "NAMES" (pad is deliberately absent).
 */
export const HEADER_FUNCS: Readonly<Record<string, FuncDef>> = {
  json: { params: ['any'], fn: first },
  split: { params: ['any', 'any'], fn: first },
  join: { params: ['any', 'any'], fn: first },
  title: { params: ['any'], fn: first },
  lower: { params: ['any'], fn: first },
  upper: { params: ['any'], fn: first },
  truncate: { params: ['any', 'any'], fn: first },
};

// Go's validateType: a template passes values to typed Go parameters, so types are checked.
function checkArg(t: ParamType, v: unknown, i: number): void {
  if (t === 'any') return;
  const want = t === 'list' ? '[]string' : t;
  if (v === undefined || v === null) throw new FuncArgError(i, want, `invalid value; expected ${want}`);
  const ok = t === 'string' ? typeof v === 'string' : t === 'int' ? typeof v === 'number' && Number.isInteger(v) : Array.isArray(v);
  if (!ok) throw new FuncArgError(i, t === 'int' ? 'integer' : want, `wrong type for value; expected ${want}; got ${goTypeName(v)}`);
}

/**
 * Calls a template function with Go's checks: argument count ("wrong number of args for join:
 * want 2 got 1"), argument types, and "error calling X: …" around failures of the function.
 */
export function callFunc(name: string, def: FuncDef, args: unknown[]): unknown {
  const n = def.params.length;
  if (def.variadic ? args.length < n : args.length !== n) {
    throw new Error(`wrong number of args for ${name}: want ${def.variadic ? 'at least ' : ''}${n} got ${args.length}`);
  }
  args.forEach((a, i) => checkArg(def.params[i] ?? 'any', a, i));
  try {
    return def.fn(...args);
  } catch (err) {
    throw new Error(`error calling ${name}: ${(err as Error).message}`);
  }
}
