import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, type FlagDef } from '../../src/commands/parse.js';
import { UsageError } from '../../src/errors.js';

const defs: FlagDef[] = [
  { name: 'detach', short: 'd', type: 'bool', help: '' },
  { name: 'interactive', short: 'i', type: 'bool', help: '' },
  { name: 'tty', short: 't', type: 'bool', help: '' },
  { name: 'rm', type: 'bool', help: '' },
  { name: 'name', type: 'string', help: '' },
  { name: 'env', short: 'e', type: 'list', help: '' },
  { name: 'publish', short: 'p', type: 'list', help: '' },
  { name: 'last', short: 'n', type: 'int', default: -1, help: '' },
];
const parse = (words: string[], interspersed = true) => parseFlags(words, defs, { commandPath: 'run', interspersed });

test('clustered shorthands, attached values, = forms', () => {
  const p = parse(['-it', '-n5', '--name=web', '-e', 'A=1', '-eB=2', '-e=C=3', 'img']);
  assert.equal(p.flags.interactive, true);
  assert.equal(p.flags.tty, true);
  assert.equal(p.flags.last, 5);
  assert.equal(p.flags.name, 'web');
  assert.deepEqual(p.flags.env, ['A=1', 'B=2', 'C=3']);
  assert.deepEqual(p.args, ['img']);
  assert.deepEqual([...p.given].sort(), ['env', 'interactive', 'last', 'name', 'tty']);
});

test('defaults are filled in and booleans take =false', () => {
  const p = parse(['--rm=false', '-d=true', 'img']);
  assert.equal(p.flags.rm, false);
  assert.equal(p.flags.detach, true);
  assert.equal(p.flags.last, -1);
  assert.deepEqual(p.flags.publish, []);
  assert.throws(() => parse(['--rm=maybe']), /invalid argument "maybe" for "--rm" flag: strconv.ParseBool/);
});

test('a boolean does not eat the next word', () => {
  const p = parse(['--rm', 'false']);
  assert.equal(p.flags.rm, true);
  assert.deepEqual(p.args, ['false']);
});

test('-- ends the flags', () => {
  const p = parse(['--name', 'x', '--', '-d', '--rm']);
  assert.equal(p.flags.detach, false);
  assert.deepEqual(p.args, ['-d', '--rm']);
});

test('not interspersed: the first argument ends the flags (run IMAGE CMD -flags)', () => {
  const p = parse(['-d', 'busybox', 'ls', '-l', '--rm'], false);
  assert.equal(p.flags.detach, true);
  assert.equal(p.flags.rm, false);
  assert.deepEqual(p.args, ['busybox', 'ls', '-l', '--rm']);
  const q = parse(['web', '--rm'], true);
  assert.equal(q.flags.rm, true);
});

test("docker's wording for mistakes, exit code 125", () => {
  const cases: Array<[string[], RegExp]> = [
    [['--foo'], /^unknown flag: --foo\nSee 'docker run --help'\.$/],
    [['-x'], /^unknown shorthand flag: 'x' in -x\nSee 'docker run --help'\.$/],
    [['-dx'], /^unknown shorthand flag: 'x' in -dx/],
    [['--name'], /^flag needs an argument: --name/],
    [['-e'], /^flag needs an argument: 'e' in -e/],
    [['-n', 'abc'], /^invalid argument "abc" for "-n, --last" flag: strconv.ParseInt: parsing "abc": invalid syntax/],
  ];
  for (const [words, re] of cases) {
    assert.throws(
      () => parse(words),
      (e: unknown) => e instanceof UsageError && e.exitCode === 125 && re.test(e.message),
      words.join(' '),
    );
  }
});
