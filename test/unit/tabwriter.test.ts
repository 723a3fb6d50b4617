import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayWidth, runeWidth, tabwrite, tabwriteText } from '../../src/render/tabwriter.js';

test('matches real docker ps table output (docker 20.10.24)', () => {
  // `docker ps -a --format 'table {{.Names}}\t{{.Status}}\t{{.Command}}'`, pasted verbatim.
  const real =
    'NAMES            STATUS                      COMMAND\n' +
    'quirky_galileo   Exited (0) 24 seconds ago   "sh -c \'echo out; ec…"\n' +
    'web              Up 24 seconds               "httpd -f -p 8080"\n';
  const rows = [
    ['NAMES', 'STATUS', 'COMMAND'],
    ['quirky_galileo', 'Exited (0) 24 seconds ago', '"sh -c \'echo out; ec…"'],
    ['web', 'Up 24 seconds', '"httpd -f -p 8080"'],
  ];
  assert.equal(tabwrite(rows), real);
});

test('pads short columns to minwidth 10 (real docker: table {{.Names}}\\t{{.Size}})', () => {
  assert.equal(tabwrite([['NAMES', 'SIZE'], ['web', '0B (virtual 1.98MB)']]), 'NAMES     SIZE\nweb       0B (virtual 1.98MB)\n');
});

test('column blocks end at lines with fewer cells (real docker output)', () => {
  // `docker ps --format 'table {{"aaaa"}}\t{{"b"}}\tc\nx\n{{"aaaaaaaaaaaaaaaa"}}\tb\tc\n\tempty\t\t'`
  // with one container: header and row render the same text. Column 0 of the first line is
  // its own block (the "x" line ends it), so it gets 10, not 19.
  const block = 'aaaa\tb\tc\nx\naaaaaaaaaaaaaaaa\tb\tc\n\tempty\t\t\n';
  const real =
    'aaaa      b         c\n' +
    'x\n' +
    'aaaaaaaaaaaaaaaa   b         c\n' +
    '                   empty               \n' +
    'aaaa               b         c\n' +
    'x\n' +
    'aaaaaaaaaaaaaaaa   b         c\n' +
    '                   empty               \n';
  assert.equal(tabwriteText(block + block), real);
});

test('a line with fewer cells ends deeper column blocks only (real docker output)', () => {
  // `table {{if eq .Names "web"}}a\tb\tc{{else}}abcdefghijklmnop\tq{{end}}\tz` with one container.
  const real = 'abcdefghijklmnop   q         z\n' + 'abcdefghijklmnop   q         z\n' + 'a                  b         c         z\n';
  assert.equal(tabwriteText('abcdefghijklmnop\tq\tz\nabcdefghijklmnop\tq\tz\na\tb\tc\tz\n'), real);
});

test('counts code points like Go, not UTF-16 units or bytes (real docker output)', () => {
  // `docker ps -a --format 'table {{"日本"}}\t{{.Names}}\t{{"é"}}\tx'`: 日本 gets 8 spaces.
  const real = '日本        NAMES            é         x\n' + '日本        quirky_galileo   é         x\n' + '日本        web              é         x\n';
  const rows = ['NAMES', 'quirky_galileo', 'web'].map((n) => ['日本', n, 'é', 'x']);
  assert.equal(tabwrite(rows), real);
});

test('eastAsianWidth option counts wide characters as two columns', () => {
  assert.equal(tabwrite([['日本', 'x']], { eastAsianWidth: true }), '日本      x\n');
  assert.equal(tabwrite([['😀', 'x']], { eastAsianWidth: true }), '😀        x\n');
});

test('the last cell is never padded, empty cells are', () => {
  assert.equal(tabwrite([['a', 'b', '']]), 'a         b         \n');
  assert.equal(tabwrite([['', 'b']]), '          b\n');
  assert.equal(tabwrite([['only']]), 'only\n');
  assert.equal(tabwrite([[]]), '\n');
  assert.equal(tabwrite([]), '');
});

test('a long cell widens its column to width + padding', () => {
  assert.equal(tabwrite([['abcdefghij', 'x'], ['a', 'y']]), `abcdefghij   x\na${' '.repeat(12)}y\n`);
});

test('honours minwidth and padding options', () => {
  assert.equal(tabwrite([['ab', 'c'], ['abcd', 'e']], { minwidth: 0, padding: 1 }), 'ab   c\nabcd e\n');
  assert.equal(tabwrite([['ab', 'c']], { minwidth: 4, padding: 0 }), 'ab  c\n');
});

test('tabwriteText passes lines without tabs through and keeps a missing final newline missing', () => {
  assert.equal(tabwriteText('plain line\n'), 'plain line\n');
  assert.equal(tabwriteText('a\tb'), 'a         b');
  assert.equal(tabwriteText(''), '');
  assert.equal(tabwriteText('a\tb\n\nc\td\n'), 'a         b\n\nc         d\n');
});

test('runeWidth and displayWidth', () => {
  assert.equal(runeWidth('a'.codePointAt(0)!), 1);
  assert.equal(runeWidth('本'.codePointAt(0)!), 2);
  assert.equal(runeWidth('Ｗ'.codePointAt(0)!), 2);
  assert.equal(runeWidth('…'.codePointAt(0)!), 1);
  assert.equal(displayWidth('ab日本'), 6);
  assert.equal(displayWidth('한국어'), 6);
});
