/**
 * Lexer for docker's Go templates, after Go's text/template/parse/lex.go: text, {{ }} actions
 * with "{{- " / " -}}" trimming, comment actions, and the tokens inside actions.
 */

/** Token kinds, after Go's itemType ('ld'/'rd' are the {{ and }} delimiters). */
export type TokType =
  | 'text' | 'ld' | 'rd' | 'space' | 'field' | 'var' | 'ident' | 'kw' | 'str' | 'num' | 'bool' | 'nil'
  | 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma' | 'dot' | 'char' | 'eof';
/** A token: type, source text, offset in the source string; `value` holds a literal's decoded value. */
export interface Tok {
  t: TokType;
  v: string;
  pos: number;
  value?: string | number;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);
const SPACE = /[ \t\r\n]/;

// Go's strconv.Unquote for "…" literals.
function unquote(body: string): string {
  const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_m, e: string) => {
    if (e.length === 1) {
      if (!(e in simple)) throw new Error('invalid syntax');
      return simple[e];
    }
    const cp = /^[0-7]/.test(e) ? parseInt(e, 8) : parseInt(e.slice(1), 16);
    return String.fromCodePoint(cp);
  });
}

// Go accepts 0x/0o/0b prefixes, underscores, floats and exponents; anything else is bad syntax.
function parseNumber(text: string): number | undefined {
  if (!/^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)$/.test(text)) return undefined;
  const neg = text.startsWith('-');
  const body = text.replace(/^[+-]/, '').replace(/_/g, '');
  const n = /^0[0-7]+$/.test(body) ? parseInt(body, 8) : Number(body);
  if (body === '' || body === '.' || Number.isNaN(n)) return undefined;
  return neg ? -n : n;
}

/** Splits a template into tokens; `fail` reports a lexical error (unclosed action, bad number…). */
export function lex(src: string, fail: (pos: number, msg: string) => never): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let trimNext = false;
  while (i <= src.length) {
    const ld = src.indexOf('{{', i);
    let text = src.slice(i, ld < 0 ? src.length : ld);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (ld < 0) {
      if (text) toks.push({ t: 'text', v: text, pos: i });
      break;
    }
    let k = ld + 2;
    // "{{- " trims the whitespace before the action; the dash must be followed by a space.
    if (src[k] === '-' && SPACE.test(src[k + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      k += 2;
    }
    if (text) toks.push({ t: 'text', v: text, pos: i });
    if (src.startsWith('/*', k)) {
      const end = src.indexOf('*/', k + 2);
      if (end < 0) fail(ld, 'unclosed comment');
      k = end + 2;
      if (src.startsWith(' -}}', k)) (trimNext = true), (i = k + 4);
      else if (src.startsWith('}}', k)) i = k + 2;
      else fail(ld, 'comment ends before closing delimiter');
      continue;
    }
    toks.push({ t: 'ld', v: '{{', pos: ld });
    for (;;) {
      if (k >= src.length) fail(k, 'unclosed action');
      const c = src[k];
      const start = k;
      if (src.startsWith('}}', k)) {
        toks.push({ t: 'rd', v: '}}', pos: k });
        i = k + 2;
        break;
      }
      if (SPACE.test(c)) {
        if (src.startsWith('-}}', k + 1)) {
          // " -}}" trims the whitespace after the action.
          toks.push({ t: 'rd', v: '}}', pos: k + 2 });
          trimNext = true;
          i = k + 4;
          break;
        }
        while (k < src.length && SPACE.test(src[k]) && !src.startsWith('-}}', k + 1)) k++;
        toks.push({ t: 'space', v: ' ', pos: start });
        continue;
      }
      const one: Record<string, TokType> = { '|': 'pipe', '(': 'lparen', ')': 'rparen', ',': 'comma', '=': 'assign' };
      if (c in one) {
        toks.push({ t: one[c], v: c, pos: k++ });
      } else if (c === ':') {
        if (src[k + 1] !== '=') fail(k, 'expected :=');
        toks.push({ t: 'declare', v: ':=', pos: k });
        k += 2;
      } else if (c === '"') {
        k++;
        while (k < src.length && src[k] !== '"' && src[k] !== '\n') k += src[k] === '\\' ? 2 : 1;
        if (src[k] !== '"') fail(start, 'unterminated quoted string');
        const v = src.slice(start, ++k);
        let value: string;
        try {
          value = unquote(v.slice(1, -1));
        } catch {
          fail(start, 'invalid syntax');
        }
        toks.push({ t: 'str', v, pos: start, value });
      } else if (c === '`') {
        const end = src.indexOf('`', k + 1);
        if (end < 0) fail(start, 'unterminated raw quoted string');
        k = end + 1;
        // Go drops carriage returns from raw strings.
        toks.push({ t: 'str', v: src.slice(start, k), pos: start, value: src.slice(start + 1, end).replace(/\r/g, '') });
      } else if (c === "'") {
        const m = /^'(\\.[^']*|[^\\'])'/u.exec(src.slice(k));
        if (!m) fail(start, 'unterminated character constant');
        const ch = m[1].startsWith('\\') ? unquote(m[1].replace(/^\\'$/, "'")) : m[1];
        toks.push({ t: 'num', v: m[0], pos: start, value: ch.codePointAt(0) ?? 0 });
        k += m[0].length;
      } else if (c === '$' || (c === '.' && /[A-Za-z_]/.test(src[k + 1] ?? ''))) {
        k++;
        while (k < src.length && /[\p{L}\p{Nd}_]/u.test(src[k])) k++;
        toks.push({ t: c === '$' ? 'var' : 'field', v: src.slice(start, k), pos: start });
      } else if (/[0-9]/.test(c) || (/[.+-]/.test(c) && /[0-9]/.test(src[k + 1] ?? ''))) {
        k++;
        while (k < src.length && (/[0-9A-Za-z_.]/.test(src[k]) || (/[+-]/.test(src[k]) && /[eEpP]/.test(src[k - 1])))) k++;
        const v = src.slice(start, k);
        const value = parseNumber(v);
        if (value === undefined) fail(start, `bad number syntax: "${v}"`);
        toks.push({ t: 'num', v, pos: start, value });
      } else if (c === '.') {
        toks.push({ t: 'dot', v: '.', pos: k++ });
      } else if (/[\p{L}_]/u.test(c)) {
        while (k < src.length && /[\p{L}\p{Nd}_]/u.test(src[k])) k++;
        const v = src.slice(start, k);
        const t: TokType = KEYWORDS.has(v) ? 'kw' : v === 'true' || v === 'false' ? 'bool' : v === 'nil' ? 'nil' : 'ident';
        toks.push({ t, v, pos: start });
      } else if (c >= ' ' && c < '\x7f') {
        // Go emits other printable ASCII as a char item and lets the parser reject it.
        toks.push({ t: 'char', v: c, pos: k++ });
      } else {
        const cp = c.codePointAt(0) ?? 0;
        fail(k, `bad character U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${c}'`);
      }
    }
  }
  toks.push({ t: 'eof', v: '', pos: src.length });
  return toks;
}

// Go's item.String(), used in "unexpected … in …".
export function tokStr(t: Tok): string {
  if (t.t === 'eof') return 'EOF';
  if (t.t === 'kw') return `<${t.v}>`;
  return t.v.length > 10 ? `${JSON.stringify(t.v.slice(0, 10))}...` : JSON.stringify(t.v);
}
