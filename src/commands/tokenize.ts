import { UsageError } from '../errors.js';

/** Longest command text accepted by any door. */
export const MAX_COMMAND_BYTES = 8 * 1024;

/**
 * Characters a shell would treat as operators. There is no shell here: rather than run something
 * other than what the person meant, an unquoted operator is refused with a message saying so.
 */
const OPERATORS = [';', '|', '&', '>', '<', '`', '$(', '${'];

/** Slack turns straight quotes into typographic ones; people mean the straight ones. */
const QUOTE_ALIASES: Record<string, string> = { '\u201c': '"', '\u201d': '"', '\u2018': "'", '\u2019': "'" };

/**
 * Splits a command line into words the way a POSIX shell quotes (single quotes literal, double
 * quotes with \" \\ \$ \` escapes, backslash outside quotes) but performs NO expansion: no
 * variables, no command substitution, no globbing, no operators. A leading `docker` is dropped.
 */
export function tokenize(input: string): string[] {
  if (Buffer.byteLength(input, 'utf8') > MAX_COMMAND_BYTES) {
    throw new UsageError(`command is too long: ${Buffer.byteLength(input, 'utf8')} bytes (limit ${MAX_COMMAND_BYTES})`);
  }
  // eslint-disable-next-line no-control-regex
  const ctl = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(input);
  if (ctl) {
    throw new UsageError(`command contains a control character (U+${ctl[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}); remove it`);
  }
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const s = input;
  while (i < s.length) {
    let c = s[i];
    if (QUOTE_ALIASES[c]) c = QUOTE_ALIASES[c];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    if (c === "'") {
      const end = findQuoteEnd(s, i + 1, "'");
      if (end < 0) throw new UsageError('unbalanced quotes: a single quote (\') is never closed');
      word += s.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const d = QUOTE_ALIASES[s[i]] ?? s[i];
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < s.length && '"\\$`\n'.includes(s[i + 1])) {
          if (s[i + 1] !== '\n') word += s[i + 1];
          i += 2;
          continue;
        }
        word += s[i];
        i++;
      }
      if (!closed) throw new UsageError('unbalanced quotes: a double quote (") is never closed');
      inWord = true;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= s.length) throw new UsageError('the command ends with a lone backslash (\\)');
      if (s[i + 1] !== '\n') word += s[i + 1];
      inWord = true;
      i += 2;
      continue;
    }
    const op = OPERATORS.find((o) => s.startsWith(o, i));
    if (op) {
      throw new UsageError(
        `'${op}' is a shell operator and dockops runs exactly one docker command with no shell; quote it ('${op}') if you mean the character`,
      );
    }
    word += s[i];
    inWord = true;
    i++;
  }
  if (inWord) words.push(word);
  if (words[0] === 'docker') words.shift();
  return words;
}

function findQuoteEnd(s: string, from: number, quote: string): number {
  for (let j = from; j < s.length; j++) {
    if ((QUOTE_ALIASES[s[j]] ?? s[j]) === quote) return j;
  }
  return -1;
}

/** Quotes words so that tokenize(quoteWords(w)) gives w back (used by the CLI and for display). */
export function quoteWords(words: string[]): string {
  return words
    // Inside single quotes tokenize reads Slack's typographic quotes as quotes too: those, and ', are
    // written outside the quotes with a backslash.
    .map((w) => (w !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/['\u2018\u2019\u201c\u201d]/g, (q) => `'\\${q}'`)}'`))
    .join(' ');
}
