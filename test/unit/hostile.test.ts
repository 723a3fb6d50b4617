import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parseCommand } from '../../src/commands/index.js';
import { parseFlags } from '../../src/commands/parse.js';
import { quoteWords, tokenize } from '../../src/commands/tokenize.js';
import { checkPolicy } from '../../src/policy/index.js';
import { DockopsError } from '../../src/errors.js';
import { ROOT } from '../support/service.js';
import { anyText, anyWords, clearMessageProblem, injectionCorpus, POLICY, throughParseAndPolicy, verbWords } from '../support/hostile.js';

/**
 * Hostile input against the pure parts of every door: the tokenizer, the flag parser, the command
 * registry and the policy. Whatever comes in, the answer is a spec that passes the JobSpec schema
 * and the policy's safety rules, help, or a refusal a person can act on: never another exception.
 */
const RUNS = Number(process.env.DOCKOPS_FUZZ_RUNS ?? 2000);

test('tokenize: any text gives words or a clear UsageError, never another exception', () => {
  fc.assert(
    fc.property(anyText, (text) => {
      try {
        const words = tokenize(text);
        assert.ok(Array.isArray(words) && words.every((w) => typeof w === 'string'));
      } catch (err) {
        assert.ok(err instanceof DockopsError && err.code === 'usage', `threw ${(err as Error).stack}`);
        assert.equal(clearMessageProblem(err.message), undefined);
      }
    }),
    { numRuns: RUNS * 2 },
  );
});

test('tokenize: an unquoted shell operator or control character is never part of a word', () => {
  fc.assert(
    fc.property(anyText, (text) => {
      let words: string[];
      try {
        words = tokenize(text);
      } catch {
        return;
      }
      // eslint-disable-next-line no-control-regex
      const ctl = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
      for (const w of words) assert.ok(!ctl.test(w), `control character kept in ${JSON.stringify(w)}`);
      // Operators only survive quoted: the text had a quote or a backslash before them.
      if (words.some((w) => /[;|&<>`]|\$\(|\$\{/.test(w))) assert.match(text, /['"\\\u201c\u201d\u2018\u2019]/, `operator passed unquoted from ${JSON.stringify(text)}`);
    }),
    { numRuns: RUNS * 2 },
  );
});

test('quoteWords then tokenize gives back the same words (the CLI door records args as text)', () => {
  const word = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((w) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(w)); // eslint-disable-line no-control-regex
  fc.assert(
    fc.property(fc.array(fc.oneof(word, fc.constantFrom("'", '"', '\\', ';', '$(id)', '`x`', '\u201c', '\u2019', '', ' ', '\n', '--')), { minLength: 1, maxLength: 8 }), (words) => {
      const w = words[0] === 'docker' ? ['x', ...words] : words;
      assert.deepEqual(tokenize(quoteWords(w)), w);
    }),
    { numRuns: RUNS },
  );
});

test('parseFlags: any words against any verb\'s flag table give flags and args or a UsageError', async () => {
  const { COMMANDS } = await import('../../src/commands/index.js');
  fc.assert(
    fc.property(fc.integer({ min: 0, max: COMMANDS.length - 1 }), anyWords, fc.boolean(), (ci, words, interspersed) => {
      const cmd = COMMANDS[ci];
      try {
        const p = parseFlags(words, cmd.flags, { commandPath: cmd.path.join(' '), interspersed });
        assert.ok(Array.isArray(p.args));
      } catch (err) {
        assert.ok(err instanceof DockopsError, `threw ${(err as Error).stack}`);
        assert.equal(clearMessageProblem(err.message), undefined);
      }
    }),
    { numRuns: RUNS },
  );
});

test('parseCommand + policy: any text, from any door, is a safe spec, help, or a clear refusal', () => {
  fc.assert(
    fc.property(anyText, (text) => assert.equal(throughParseAndPolicy(text), undefined, JSON.stringify(text).slice(0, 300))),
    { numRuns: RUNS * 2 },
  );
});

test('parseCommand + policy: known verbs with their own flags and hostile values', () => {
  fc.assert(
    fc.property(verbWords, (words) => {
      assert.equal(throughParseAndPolicy(words), undefined, `args ${JSON.stringify(words).slice(0, 300)}`);
      assert.equal(throughParseAndPolicy(quoteWords(words)), undefined, `text ${quoteWords(words).slice(0, 300)}`);
    }),
    { numRuns: RUNS * 2 },
  );
});

test('parseCommand + policy: argument arrays as the CLI door and API "args" send them', () => {
  fc.assert(
    fc.property(anyWords, (words) => assert.equal(throughParseAndPolicy(words), undefined, JSON.stringify(words).slice(0, 300))),
    { numRuns: RUNS * 2 },
  );
});

test('the injection corpus (test/corpus/injection.txt): every line refused clearly, or a safe spec', () => {
  const corpus = injectionCorpus();
  assert.ok(corpus.length >= 100, `corpus has ${corpus.length} lines`);
  const problems: string[] = [];
  for (const { line, text } of corpus) {
    const p = throughParseAndPolicy(text);
    if (p) problems.push(`injection.txt:${line}: ${p}`);
    // The same line as words (the CLI door), when it tokenizes.
    let words: string[] | undefined;
    try {
      words = tokenize(text);
    } catch {
      words = undefined;
    }
    if (words) {
      const q = throughParseAndPolicy(words);
      if (q) problems.push(`injection.txt:${line} (as args): ${q}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the corpus lines that must be refused are refused, each saying why', () => {
  const mustRefuse: Array<[RegExp, RegExp]> = [
    [/^ps; rm -rf \/$/, /';' is a shell operator/],
    [/^run busybox \$\(id\)$/, /'\$\(' is a shell operator/],
    [/^run busybox `id`$/, /'`' is a shell operator/],
    [/^ps && id$/, /shell operator/],
    [/^ps \| sh$/, /shell operator/],
    [/^ps\u0000; id$/, /control character \(U\+0000\)/],
    [/^run busybox a{1000}/, /command is too long/],
    [/^run -v \/:\/host busybox$/, /bind mount of \/ is outside the allowed host paths/],
    [/^run -v \/var\/run\/docker.sock:\/s busybox$/, /bind mount of \/var\/run\/docker.sock/],
    [/^run --mount type=bind,src=\/etc,dst=\/x busybox$/, /bind mount of \/etc/],
    [/^run --privileged=true busybox$/, /--privileged gives the container root on the host/],
    [/^run --privileged=1 busybox$/, /--privileged gives the container root on the host/],
    [/^run --network=host busybox$/, /--network host shares a namespace/],
    [/^run --pid[ =]host busybox$/, /refused by policy: --pid host shares a namespace outside the container \(set DOCKOPS_ALLOW_HOST_NAMESPACES=true/],
    [/^run --ipc=host busybox$/, /refused by policy: --ipc host shares a namespace/],
    [/^run --uts=host busybox$/, /refused by policy: --uts host shares a namespace/],
    [/^run --userns=host busybox$/, /refused by policy: --userns host shares a namespace/],
    [/^run --cgroupns=host busybox$/, /refused by policy: --cgroupns host shares a namespace/],
    [/^run --device \/dev\/sda busybox$/, /refused by policy: --device \/dev\/sda .*DOCKOPS_ALLOW_DEVICES=true/],
    [/^run --security-opt (seccomp|apparmor)=unconfined busybox$/, /refused by policy: --security-opt .*=unconfined .*DOCKOPS_ALLOW_SECURITY_OPT=true/],
    [/^load -i artifact:\.\.\/\.\.\/etc\/passwd$/, /give -i artifact:ID/],
    [/^volume create -o type=none -o device=\/etc -o o=bind hostetc$/, /refused by policy: .*device=\/etc/],
    [/^run --mount type=volume,src=x,dst=\/y,volume-opt=/, /volume-opt/],
  ];
  const corpus = injectionCorpus();
  for (const [lineRe, msgRe] of mustRefuse) {
    const hits = corpus.filter((c) => lineRe.test(c.text));
    assert.ok(hits.length > 0, `no corpus line matches ${lineRe}`);
    for (const h of hits) {
      let message = '';
      try {
        const o = parseCommand(h.text);
        if (o.type === 'spec') checkPolicy(o.spec, POLICY);
      } catch (err) {
        message = (err as Error).message;
      }
      assert.match(message, msgRe, `injection.txt:${h.line}`);
    }
  }
});

test('no shell ever: nothing in src/ runs a child process through a shell', () => {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(path.join(ROOT, 'src'));
  const problems: string[] = [];
  for (const f of files) {
    const src = readFileSync(f, 'utf8');
    if (/shell:\s*(true|['"`])/.test(src)) problems.push(`${f}: shell option`);
    if (/\b(exec|execSync)\s*\(/.test(src.replace(/\.exec\(/g, '')) && /child_process/.test(src)) problems.push(`${f}: exec() runs a shell`);
    if (/['"`](\/bin\/)?(ba)?sh['"`]\s*,\s*\[\s*['"`]-c/.test(src)) problems.push(`${f}: sh -c`);
  }
  assert.deepEqual(problems, []);
});
