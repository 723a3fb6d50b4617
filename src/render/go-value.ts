/**
 * Go values as docker's templates see them, and Go's fmt `%v` printing of them.
 *
 * docker runs `inspect -f` templates over typed Go structs (types.ContainerJSON, …), and what a
 * template prints depends on those types: a struct prints `{a b}` in field order, a pointer
 * nested in a struct prints as an address, a nil pointer as `<nil>`, a time.Duration as `1m30s`.
 * These classes carry that type information; plain JS values (the raw JSON docker falls back
 * to) stay as they are: objects are map[string]interface{}, arrays []interface{}.
 */
import { formatFloatG } from './units.js';

/** A template lookup on a Go value: a field (or map entry), a method to call, or nothing. */
export type GoLookup = { found: true; value: unknown } | { found: true; method: (...args: unknown[]) => unknown } | { found: false; error?: string };

/** A Go value with a named type; `goType` is how Go names it in errors (`types.ContainerState`). */
export abstract class GoValue {
  abstract readonly goType: string;
  /** `.Name` on this value, as text/template's evalField resolves it. */
  abstract lookup(name: string): GoLookup;
}

let nextAddress = 0xc000010000;

/**
 * A Go pointer. Templates reach through it to its fields; fmt prints a nil one as `<nil>`, a
 * pointer to a struct, map or slice as `&{…}` at the top and any other as an address
 * (`0xc0002183f8`). The address is made up: it is different on every docker run anyway.
 */
export class GoPtr extends GoValue {
  readonly address = `0x${(nextAddress += 0x28).toString(16)}`;
  constructor(
    /** The pointee's type, without the star. */
    readonly elemType: string,
    /** The pointee, or null for a nil pointer. */
    readonly elem: unknown,
    /** For a nil pointer to a struct: the struct's field names. */
    private readonly fieldNames?: readonly string[],
  ) {
    super();
  }
  get goType(): string {
    return `*${this.elemType}`;
  }
  lookup(name: string): GoLookup {
    if (this.elem === null) {
      // Go checks the field exists before it complains about the nil pointer.
      if (this.fieldNames && !this.fieldNames.includes(name)) return { found: false };
      return { found: false, error: `nil pointer evaluating ${this.goType}.${name}` };
    }
    return this.elem instanceof GoValue ? this.elem.lookup(name) : { found: false };
  }
  toJSON(): unknown {
    // JSON.stringify does not call toJSON again on what a toJSON returns.
    const e = this.elem as { toJSON?: () => unknown } | null;
    return e && typeof e === 'object' && typeof e.toJSON === 'function' ? e.toJSON() : e;
  }
}

/** One field of a {@link GoStruct}: embedded fields promote their own fields (`.State` of ContainerJSON). */
export interface GoField {
  name: string;
  value: unknown;
  embedded?: boolean;
}

/** A Go struct value: fields in declaration order, printed `{a b c}`. */
export class GoStruct extends GoValue {
  private readonly byName = new Map<string, GoField>();
  constructor(
    readonly goType: string,
    readonly fields: readonly GoField[],
    /** What json.Marshal gives for it (`{{json .State}}`). */
    private readonly marshal: () => unknown,
    /** A String() method (fmt.Stringer), as units.Ulimit and time.Time have. */
    readonly stringer?: () => string,
    /** Methods a template may call, e.g. `{{.Interval.Seconds}}`. */
    readonly methods: Readonly<Record<string, (...a: unknown[]) => unknown>> = {},
  ) {
    super();
    for (const f of fields) this.byName.set(f.name, f);
  }
  /** A field by name, looking into embedded structs as Go's FieldByName does. */
  lookup(name: string): GoLookup {
    if (Object.hasOwn(this.methods, name)) return { found: true, method: this.methods[name] };
    const own = this.byName.get(name);
    if (own) return { found: true, value: own.value };
    for (const f of this.fields) {
      if (!f.embedded) continue;
      const inner = f.value instanceof GoPtr ? f.value.elem : f.value;
      if (f.value instanceof GoPtr && inner === null) continue;
      if (inner instanceof GoStruct) {
        const r = inner.lookup(name);
        if (r.found) return r;
      }
    }
    return { found: false };
  }
  toJSON(): unknown {
    return this.marshal();
  }
}

/** A Go map (nil when the JSON had null or nothing): prints `map[k:v]`, marshals back to what the engine sent. */
export class GoMap extends Map<string, unknown> {
  constructor(
    readonly goType: string,
    entries: Iterable<[string, unknown]>,
    /** A nil map: `map[]` in print, `null` in JSON. */
    readonly nil: boolean,
    /** The element type's zero value: what `index` gives for a missing key. */
    readonly zero: unknown,
  ) {
    super(entries);
  }
  toJSON(): unknown {
    return this.nil ? null : Object.fromEntries(this);
  }
}

/** A Go slice that was nil: prints `[]` like an empty one, marshals to `null`. */
export function nilSlice(): unknown[] {
  const arr: unknown[] = [];
  Object.defineProperty(arr, 'toJSON', { value: () => null });
  return arr;
}

/** A time.Duration: prints as Go's Duration.String() (`1m30s`, `1.5s`, `0s`), marshals to nanoseconds. */
export class GoDuration extends GoValue {
  readonly goType = 'time.Duration';
  constructor(readonly ns: number) {
    super();
  }
  lookup(name: string): GoLookup {
    const ns = this.ns;
    const methods: Record<string, () => unknown> = {
      String: () => this.toString(),
      Nanoseconds: () => ns,
      Microseconds: () => Math.trunc(ns / 1e3),
      Milliseconds: () => Math.trunc(ns / 1e6),
      Seconds: () => Math.trunc(ns / 1e9) + (ns % 1e9) / 1e9,
      Minutes: () => Math.trunc(ns / 6e10) + (ns % 6e10) / 6e10,
      Hours: () => Math.trunc(ns / 3.6e12) + (ns % 3.6e12) / 3.6e12,
    };
    return Object.hasOwn(methods, name) ? { found: true, method: methods[name] } : { found: false };
  }
  override toString(): string {
    return durationString(BigInt(Math.round(this.ns)));
  }
  toJSON(): number {
    return this.ns;
  }
}

// Go's fmtFrac: the fraction of v below 10^prec, trailing zeros dropped, no dot when zero.
function fmtFrac(v: bigint, prec: number): [string, bigint] {
  let s = '';
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print ||= digit !== 0n;
    if (print) s = digit.toString() + s;
    v /= 10n;
  }
  return [print ? `.${s}` : '', v];
}

/** Go's time.Duration.String(). */
export function durationString(d: bigint): string {
  const neg = d < 0n;
  let u = neg ? -d : d;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u === 0n) return '0s';
    const [unit, prec] = u < 1000n ? ['ns', 0] : u < 1_000_000n ? ['µs', 3] : ['ms', 6];
    const [frac, rest] = fmtFrac(u, prec);
    out = `${rest}${frac}${unit}`;
  } else {
    const [frac, secs] = fmtFrac(u, 9);
    u = secs;
    out = `${u % 60n}${frac}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** A time.Time: prints "2026-11-29 06:25:33.063963493 +0000 UTC", marshals to the engine's RFC 3339 text. */
export class GoTime extends GoValue {
  readonly goType = 'time.Time';
  constructor(private readonly iso: string) {
    super();
  }
  lookup(name: string): GoLookup {
    if (name === 'String') return { found: true, method: () => this.toString() };
    if (name === 'Unix') return { found: true, method: () => Math.floor(Date.parse(this.iso) / 1000) };
    return { found: false };
  }
  override toString(): string {
    const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(this.iso);
    if (!m) return this.iso;
    const frac = (m[3] ?? '').replace(/\.?0+$/, '');
    const zone = m[4] === 'Z' ? '+0000 UTC' : `${m[4].replace(':', '')} ${m[4].replace(':', '')}`;
    return `${m[1]} ${m[2]}${frac} ${zone}`;
  }
  toJSON(): string {
    return this.iso;
  }
}

/** An os.FileMode: prints as Go's FileMode.String() (`-rwxrwxrwx`, `drwxr-xr-x`), marshals to the number. */
export class GoFileMode extends GoValue {
  readonly goType = 'fs.FileMode';
  constructor(readonly mode: number) {
    super();
  }
  lookup(): GoLookup {
    return { found: false };
  }
  override toString(): string {
    const bits = 'dalTLDpSugct?';
    let s = '';
    for (let i = 0; i < bits.length; i++) if ((this.mode >>> (31 - i)) & 1) s += bits[i];
    if (s === '') s = '-';
    const rwx = 'rwxrwxrwx';
    for (let i = 0; i < 9; i++) s += (this.mode >>> (8 - i)) & 1 ? rwx[i] : '-';
    return s;
  }
  toJSON(): number {
    return this.mode;
  }
}

/**
 * A json.Number: docker decodes the raw JSON it falls back to with UseNumber, so numbers there
 * are strings to Go (`eq .State.Pid 0` is "incompatible types", `{{if .State.Pid}}` is true).
 */
export class JsonNumber extends GoValue {
  readonly goType = 'json.Number';
  constructor(readonly text: string) {
    super();
  }
  lookup(name: string): GoLookup {
    return name === 'String' ? { found: true, method: () => this.text } : { found: false };
  }
  override toString(): string {
    return this.text;
  }
  toJSON(): number {
    return Number(this.text);
  }
}

/** Decoded JSON with its numbers as json.Number, as docker's raw fallback sees it. */
export function withJsonNumbers(v: unknown): unknown {
  if (typeof v === 'number') return new JsonNumber(String(v));
  if (Array.isArray(v)) return v.map(withJsonNumbers);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withJsonNumbers(x)]));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The value a Go String() method gives, if the value has one. */
function stringer(v: unknown): string | undefined {
  if (v instanceof GoStruct) return v.stringer?.();
  if (v instanceof GoDuration || v instanceof GoTime || v instanceof GoFileMode || v instanceof JsonNumber) return v.toString();
  return undefined;
}

/**
 * Go's fmt `%v`: strings as is, numbers as Go prints int/float64, `[a b c]` for slices,
 * `map[k:v]` with sorted keys for maps (and plain objects), `{a b}` for structs, `<nil>` for
 * nil. `depth` is fmt's: a pointer at the top prints `&{…}`, one inside another value its address.
 */
export function formatValue(v: unknown, depth = 0): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') {
    // A JS number cannot say whether Go had an int; integral values print like Go ints.
    return Number.isInteger(v) ? BigInt(v).toString() : formatFloatG(v, -1);
  }
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'function') return '<func>';
  const s = stringer(v);
  if (s !== undefined) return s;
  if (v instanceof GoPtr) {
    if (v.elem === null) return '<nil>';
    const str = stringer(v.elem);
    if (str !== undefined) return str;
    const composite = v.elem instanceof GoStruct || v.elem instanceof Map || Array.isArray(v.elem);
    return depth === 0 && composite ? `&${formatValue(v.elem, depth + 1)}` : v.address;
  }
  if (v instanceof GoStruct) return `{${v.fields.map((f) => formatValue(f.value, depth + 1)).join(' ')}}`;
  if (Array.isArray(v) || v instanceof Set) return `[${Array.from(v, (e: unknown) => formatValue(e, depth + 1)).join(' ')}]`;
  if (v instanceof Date) return goTime(v);
  const entries = v instanceof Map ? [...v.entries()] : isPlainObject(v) ? Object.entries(v) : undefined;
  if (entries) {
    // fmt sorts map keys so output is deterministic.
    const parts = entries
      .map(([k, val]) => [formatValue(k, depth + 1), formatValue(val, depth + 1)])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${parts.map(([k, val]) => `${k}:${val}`).join(' ')}]`;
  }
  return String(v);
}

// Go's time.Time.String() for UTC: "2006-01-02 15:04:05.999999999 +0000 UTC".
function goTime(d: Date): string {
  const iso = d.toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`;
}

/**
 * What a template action prints for a value, as text/template's printValue: pointers are
 * followed first (so `{{.Config}}` prints `{…}`, not `&{…}`), a nil pointer prints `<nil>`, and
 * a missing value or a nil interface `<no value>`.
 */
export function printValue(v: unknown): string {
  while (v instanceof GoPtr && v.elem !== null) v = v.elem;
  if (v === undefined || v === null) return '<no value>';
  return formatValue(v);
}
