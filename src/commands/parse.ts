import { UsageError } from '../errors.js';

/** How a flag takes its value, as pflag's types do in the docker CLI. */
export type FlagType = 'bool' | 'string' | 'int' | 'list';

export interface FlagDef {
  /** Long name without dashes: `all` for `--all`. */
  name: string;
  /** One-letter shorthand: `a` for `-a`. */
  short?: string;
  type: FlagType;
  /** Name of the value in help: `string`, `filter`, `list`, `int`. */
  valueName?: string;
  help: string;
  default?: string | number | boolean;
  /** Accepted for compatibility but has no effect here (said in help). */
  hidden?: boolean;
}

export type FlagValue = string | number | boolean | string[];

/** Flags by long name, with defaults filled in, and the positional arguments. */
export interface Parsed {
  flags: Record<string, FlagValue>;
  /** Long names of the flags the person actually gave. */
  given: Set<string>;
  args: string[];
}

// Go's underscoreOK: an underscore only between digits, or between a base prefix and a digit.
function underscoreOk(s: string): boolean {
  let saw = '^';
  let i = 0;
  const hex = /^0[xX]/.test(s);
  if (/^0[xXbBoO]/.test(s)) {
    i = 2;
    saw = '0';
  }
  for (; i < s.length; i++) {
    if (/[0-9]/.test(s[i]) || (hex && /[a-fA-F]/.test(s[i]))) saw = '0';
    else if (s[i] === '_') {
      if (saw !== '0') return false;
      saw = '_';
    } else {
      if (saw === '_') return false;
      saw = '!';
    }
  }
  return saw !== '_';
}

/**
 * Go's strconv.ParseInt/ParseUint with base 0, as pflag reads int and uint flags: `42`, `-7`,
 * `0x1f`, `0o17`, `017` (octal), `0b101`, `1_000`. Returns the number, or Go's error words.
 */
export function goParseInt(raw: string, opts: { signed: boolean; bits: number }): number | 'invalid syntax' | 'value out of range' {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(raw);
  if (!m || (m[1] && !opts.signed)) return 'invalid syntax';
  if (!underscoreOk(m[2])) return 'invalid syntax';
  const digits = m[2].replace(/_/g, '');
  if (/^0[xXbBoO]$/.test(digits)) return 'invalid syntax';
  const big = /^0[0-7]+$/.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  const value = m[1] === '-' ? -big : big;
  const max = opts.signed ? 2n ** BigInt(opts.bits - 1) - 1n : 2n ** BigInt(opts.bits) - 1n;
  const min = opts.signed ? -(2n ** BigInt(opts.bits - 1)) : 0n;
  if (value > max || value < min) return 'value out of range';
  return Number(value);
}

/** What a usage error says after its first line: docker's pointer to help. */
export function seeHelp(commandPath: string): string {
  return `See 'docker ${commandPath} --help'.`;
}

/**
 * Reads flags the way the docker CLI (cobra + pflag) does: `-it`, `-n5`, `-n 5`, `--name=x`,
 * `--name x`, repeated list flags, `--rm=false`, and `--` to end the flags. With
 * `interspersed: false` (run, exec, create) the first positional argument ends the flags, so
 * `run busybox ls -l` passes `-l` to the container.
 */
export function parseFlags(
  words: string[],
  defs: FlagDef[],
  opts: { commandPath: string; interspersed?: boolean },
): Parsed {
  const byLong = new Map(defs.map((d) => [d.name, d]));
  const byShort = new Map(defs.filter((d) => d.short).map((d) => [d.short as string, d]));
  const flags: Record<string, FlagValue> = {};
  const given = new Set<string>();
  for (const d of defs) flags[d.name] = defaultOf(d);
  const args: string[] = [];
  const interspersed = opts.interspersed ?? true;
  const fail = (msg: string): never => {
    throw new UsageError(`${msg}\n${seeHelp(opts.commandPath)}`);
  };

  const set = (d: FlagDef, raw: string, shown: string) => {
    if (!given.has(d.name) && d.type === 'list') flags[d.name] = [];
    given.add(d.name);
    switch (d.type) {
      case 'bool': {
        const b = parseBool(raw);
        if (b === undefined) fail(`invalid argument "${raw}" for "${shown}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`);
        flags[d.name] = b as boolean;
        break;
      }
      case 'int': {
        const n = goParseInt(raw, { signed: true, bits: 64 });
        if (typeof n === 'string') fail(`invalid argument "${raw}" for "${shown}" flag: strconv.ParseInt: parsing "${raw}": ${n}`);
        flags[d.name] = n as number;
        break;
      }
      case 'list':
        (flags[d.name] as string[]).push(raw);
        break;
      default:
        flags[d.name] = raw;
    }
  };
  const shownName = (d: FlagDef) => (d.short ? `-${d.short}, --${d.name}` : `--${d.name}`);

  let i = 0;
  while (i < words.length) {
    const w = words[i];
    if (w === '--') {
      args.push(...words.slice(i + 1));
      break;
    }
    if (w.startsWith('--') && w.length > 2) {
      const eq = w.indexOf('=');
      const name = eq >= 0 ? w.slice(2, eq) : w.slice(2);
      const d = byLong.get(name);
      if (!d) fail(`unknown flag: --${name}`);
      const def = d as FlagDef;
      if (eq >= 0) set(def, w.slice(eq + 1), shownName(def));
      else if (def.type === 'bool') set(def, 'true', shownName(def));
      else {
        if (i + 1 >= words.length) fail(`flag needs an argument: --${name}`);
        set(def, words[++i], shownName(def));
      }
      i++;
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      // A cluster of shorthands: -it, -n5, -e=FOO (pflag drops the '=').
      let j = 1;
      while (j < w.length) {
        const ch = w[j];
        const d = byShort.get(ch);
        if (!d) fail(`unknown shorthand flag: '${ch}' in ${w}`);
        const def = d as FlagDef;
        const rest = w.slice(j + 1);
        if (def.type === 'bool') {
          if (rest.startsWith('=')) {
            set(def, rest.slice(1), shownName(def));
            break;
          }
          set(def, 'true', shownName(def));
          j++;
          continue;
        }
        if (rest.length > 0) set(def, rest.startsWith('=') ? rest.slice(1) : rest, shownName(def));
        else {
          if (i + 1 >= words.length) fail(`flag needs an argument: '${ch}' in -${ch}`);
          set(def, words[++i], shownName(def));
        }
        break;
      }
      i++;
      continue;
    }
    args.push(w);
    i++;
    if (!interspersed) {
      args.push(...words.slice(i));
      break;
    }
  }
  return { flags, given, args };
}

function defaultOf(d: FlagDef): FlagValue {
  if (d.type === 'list') return [];
  if (d.default !== undefined) return d.default;
  if (d.type === 'bool') return false;
  if (d.type === 'int') return 0;
  return '';
}

function parseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false;
  return undefined;
}

/** docker's help block for a flag table, aligned as cobra prints it. */
export function flagHelp(defs: FlagDef[]): string {
  const rows = defs
    .filter((d) => !d.hidden)
    .map((d) => {
      const left = `${d.short ? `-${d.short}, ` : '    '}--${d.name}${d.type === 'bool' ? '' : ` ${d.valueName ?? (d.type === 'list' ? 'list' : d.type)}`}`;
      const def = d.default !== undefined && d.default !== '' && d.type !== 'bool' ? ` (default ${typeof d.default === 'string' ? `"${d.default}"` : d.default})` : '';
      return [left, d.help + def];
    })
    .sort((a, b) => a[0].trim().replace(/^-\w, /, '').localeCompare(b[0].trim().replace(/^-\w, /, '')));
  const width = Math.max(0, ...rows.map((r) => r[0].length));
  return rows.map(([l, r]) => `  ${l.padEnd(width)}   ${r}`).join('\n');
}
