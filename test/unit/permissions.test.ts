import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCommand, type JobSpec } from '../../src/commands/index.js';
import { Permissions, loadPolicyFile } from '../../src/policy/file.js';
import { requiredRole } from '../../src/policy/roles.js';
import { PolicyError } from '../../src/errors.js';
import { ROOT } from '../support/service.js';

const spec = (cmd: string) => (parseCommand(cmd) as { spec: JobSpec }).spec;
const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-policy-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function policy(yaml: string) {
  const f = path.join(dir, `p${Math.random()}.yml`);
  writeFileSync(f, yaml);
  return loadPolicyFile(f);
}

test('roles: read verbs for viewers, day-to-day for operators, removals and unknown verbs for admins', () => {
  assert.equal(requiredRole('container.ls'), 'viewer');
  assert.equal(requiredRole('container.logs'), 'viewer');
  assert.equal(requiredRole('container.restart'), 'operator');
  assert.equal(requiredRole('image.pull'), 'operator');
  assert.equal(requiredRole('container.rm'), 'admin');
  assert.equal(requiredRole('image.prune'), 'admin');
  assert.equal(requiredRole('something.new'), 'admin');
});

test('grants by Slack user, Slack channel and API token, with hosts, images and containers', () => {
  const p = new Permissions(
    policy(`grants:
  - slack_users: [U1]
    role: admin
  - slack_channels: [C1]
    role: viewer
  - slack_users: [U2]
    role: operator
    hosts: [local]
    containers: ["web-*"]
    images: ["busybox*"]
  - api_tokens: [ci]
    role: operator
`),
    'viewer',
  );
  const alice = { door: 'slack' as const, user: 'U1', channel: 'C9' };
  const bob = { door: 'slack' as const, user: 'U2', channel: 'C9' };
  const anyone = { door: 'slack' as const, user: 'U3', channel: 'C1' };
  assert.equal(p.authorize(alice, spec('rm -f web-1'), 'local'), 'admin');
  assert.equal(p.authorize(anyone, spec('ps -a'), 'local'), 'viewer');
  assert.throws(() => p.authorize(anyone, spec('restart web-1'), 'local'), (e: unknown) => e instanceof PolicyError && /needs the operator role; <@U3> is viewer/.test((e as Error).message));
  assert.equal(p.authorize(bob, spec('restart web-1'), 'local'), 'operator');
  assert.throws(() => p.authorize(bob, spec('restart db-1'), 'local'), /may not run this on host "local" on db-1/);
  assert.throws(() => p.authorize(bob, spec('restart web-1'), 'prod'), /on host "prod"/);
  assert.equal(p.authorize(bob, spec('run --rm busybox true'), 'local'), 'operator');
  assert.throws(() => p.authorize(bob, spec('run --rm alpine true'), 'local'), /with alpine/);
  assert.throws(() => p.authorize(bob, spec('run --name db-2 busybox true'), 'local'), /on db-2/);
  assert.throws(() => p.authorize(bob, spec('rm web-1'), 'local'), /needs the admin role/);
  assert.throws(() => p.authorize({ door: 'slack', user: 'U9', channel: 'C9' }, spec('ps'), 'local'), /has no grant/);
  assert.equal(p.authorize({ door: 'api', token: 'ci' }, spec('pull busybox'), 'local'), 'operator');
  assert.throws(() => p.authorize({ door: 'api', token: 'other' }, spec('ps'), 'local'), /token "other" has no grant/);
});

test('without a policy file: tokens are admins, Slack users get the default role', () => {
  const p = new Permissions(undefined, 'viewer');
  assert.equal(p.authorize({ door: 'api', token: 't' }, spec('rm -f x'), 'local'), 'admin');
  assert.equal(p.authorize({ door: 'slack', user: 'U', channel: 'C' }, spec('ps'), 'local'), 'viewer');
  assert.throws(() => p.authorize({ door: 'slack', user: 'U', channel: 'C' }, spec('stop x'), 'local'), /needs the operator role/);
});

test('a bad policy file names the file and the line', () => {
  assert.throws(
    () => policy('grants:\n  - slack_users: [U1]\n    role: admin\n  - api_tokens: [ci]\n    role: superuser\n'),
    (e: unknown) => /p[0-9.]+\.yml:5: grants\.1\.role/.test((e as Error).message),
  );
  assert.throws(() => policy('grants:\n  - role: admin\n'), /needs slack_users, slack_channels or api_tokens/);
  assert.throws(() => policy('grants:\n  - slack_users: [U1]\n    role: admin\n    colour: blue\n'), /colour|Unrecognized/);
  assert.doesNotThrow(() => loadPolicyFile(path.join(ROOT, 'policy.example.yml')));
});
