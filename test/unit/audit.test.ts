import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactCommand } from '../../src/ops/audit.js';
import { parseCommand } from '../../src/commands/index.js';
import { requiredRole } from '../../src/policy/roles.js';
import { UsageError } from '../../src/errors.js';

test('audit entries keep the command, not its secrets', () => {
  const cases: Array<[string, string]> = [
    ['run --rm -e PASSWORD=hunter2 -e HOME --env=TOKEN=abc -eX=1 busybox env', 'run --rm -e PASSWORD=*** -e HOME --env=TOKEN=*** -eX=*** busybox env'],
    ["run -e 'A=b c' -de B=2 busybox", 'run -e A=*** -de B=*** busybox'],
    ['build --build-arg NPM_TOKEN=s3cr3t -t x https://user:ghp_abc@github.com/o/r.git', 'build --build-arg NPM_TOKEN=*** -t x https://***@github.com/o/r.git'],
    ['login -u me -p hunter2 localhost:5000', 'login -u me -p *** localhost:5000'],
    ['--host local login -u me -phunter2', '--host local login -u me -p***'],
    ['login -u me --password=hunter2', 'login -u me --password=***'],
    // Refused text that cannot be split into words is masked by pattern.
    ["run -e TOKEN=x busybox 'unbalanced", "run -e TOKEN=*** busybox 'unbalanced"],
    ['login -u me -p hunter2; ls', 'login -u me -p *** ls'],
  ];
  for (const [given, want] of cases) assert.equal(redactCommand(given), want, given);
  // Nothing secret: the text as typed.
  for (const same of ['ps -a', 'run -p 127.0.0.1:80:80 busybox', 'login -u me --password-stdin localhost:5000', "run busybox sh -c 'echo hi'"]) assert.equal(redactCommand(same), same);
});

test('audit is a verb of its own, for admins, with docker-style usage errors', () => {
  const o = parseCommand('audit --limit 5 --user U0BOB --door slack');
  assert.equal(o.type, 'spec');
  assert.deepEqual(o.type === 'spec' && o.spec, { kind: 'audit', limit: 5, user: 'U0BOB', door: 'slack', noTrunc: false, format: undefined });
  assert.equal(o.type === 'spec' && o.command.private, true, 'answered to the asker only');
  assert.equal(requiredRole('audit'), 'admin');
  assert.throws(() => parseCommand('audit --door smoke'), (e: unknown) => e instanceof UsageError && /invalid argument "smoke" for "--door" flag: must be one of api, cli, slack, github, schedule/.test((e as Error).message));
  assert.throws(() => parseCommand('audit -n 0'), /must be between 1 and 1000/);
  assert.throws(() => parseCommand('audit extra'), /"docker audit" accepts no arguments/);
});
