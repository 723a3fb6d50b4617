import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize, quoteWords, MAX_COMMAND_BYTES } from '../../src/commands/tokenize.js';
import { UsageError } from '../../src/errors.js';

test('splits on whitespace and drops a leading docker', () => {
  assert.deepEqual(tokenize('docker ps   -a'), ['ps', '-a']);
  assert.deepEqual(tokenize('  logs --tail 50 web\n'), ['logs', '--tail', '50', 'web']);
});

test('single quotes are literal, double quotes take \\" and \\\\ escapes', () => {
  assert.deepEqual(tokenize(`run busybox sh -c 'echo "$HOME" $(id)'`), ['run', 'busybox', 'sh', '-c', 'echo "$HOME" $(id)']);
  assert.deepEqual(tokenize('run -e "A=b \\"c\\" \\\\d" x'), ['run', '-e', 'A=b "c" \\d', 'x']);
  assert.deepEqual(tokenize(`a'b'"c"d`), ['abcd']);
  assert.deepEqual(tokenize(`x ''`), ['x', '']);
});

test('Slack typographic quotes count as quotes', () => {
  assert.deepEqual(tokenize('run busybox sh -c \u201cecho hi there\u201d'), ['run', 'busybox', 'sh', '-c', 'echo hi there']);
  assert.deepEqual(tokenize('ps --format \u2018{{.ID}} {{.Names}}\u2019'), ['ps', '--format', '{{.ID}} {{.Names}}']);
});

test('no expansion: globs and variables stay as typed', () => {
  assert.deepEqual(tokenize('images -f reference=busy* $HOME'), ['images', '-f', 'reference=busy*', '$HOME']);
});

test('shell operators outside quotes are refused, inside quotes they are text', () => {
  for (const bad of ['ps; rm -f x', 'ps | grep x', 'ps && rm x', 'ps > out', 'run busybox `id`', 'run busybox $(id)', 'ps & ']) {
    assert.throws(() => tokenize(bad), (e: unknown) => e instanceof UsageError && /shell operator/.test((e as Error).message), bad);
  }
  assert.deepEqual(tokenize(`run busybox sh -c 'a; b | c && d > e'`), ['run', 'busybox', 'sh', '-c', 'a; b | c && d > e']);
});

test('unbalanced quotes, control characters and oversized commands are usage errors', () => {
  assert.throws(() => tokenize(`ps 'a`), /single quote/);
  assert.throws(() => tokenize(`ps "a`), /double quote/);
  assert.throws(() => tokenize('ps \\'), /lone backslash/);
  assert.throws(() => tokenize('ps\u0000-a'), /control character \(U\+0000\)/);
  assert.throws(() => tokenize(`ps ${'a'.repeat(MAX_COMMAND_BYTES)}`), /too long/);
  try {
    tokenize(`ps "a`);
  } catch (e) {
    assert.equal((e as UsageError).exitCode, 125);
  }
});

test('quoteWords round-trips through tokenize', () => {
  const words = ['run', '--rm', 'busybox', 'sh', '-c', `echo 'it''s' "x" $y; z`, '', 'ü'];
  assert.deepEqual(tokenize(quoteWords(words)), words);
});
