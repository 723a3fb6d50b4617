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

test('grants by Slack user, Slack channel and API token, with hosts, images and containers', async () => {
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
  assert.equal(await p.authorize(alice, spec('rm -f web-1'), 'local'), 'admin');
  assert.equal(await p.authorize(anyone, spec('ps -a'), 'local'), 'viewer');
  await assert.rejects(p.authorize(anyone, spec('restart web-1'), 'local'), (e: unknown) => e instanceof PolicyError && /needs the operator role; <@U3> is viewer/.test((e as Error).message));
  assert.equal(await p.authorize(bob, spec('restart web-1'), 'local'), 'operator');
  await assert.rejects(p.authorize(bob, spec('restart db-1'), 'local'), /may not run this on host "local" on db-1/);
  await assert.rejects(p.authorize(bob, spec('restart web-1'), 'prod'), /on host "prod"/);
  assert.equal(await p.authorize(bob, spec('run --rm busybox true'), 'local'), 'operator');
  await assert.rejects(p.authorize(bob, spec('run --rm alpine true'), 'local'), /with alpine/);
  await assert.rejects(p.authorize(bob, spec('run --name db-2 busybox true'), 'local'), /on db-2/);
  await assert.rejects(p.authorize(bob, spec('rm web-1'), 'local'), /needs the admin role/);
  await assert.rejects(p.authorize({ door: 'slack', user: 'U9', channel: 'C9' }, spec('ps'), 'local'), /has no grant/);
  assert.equal(await p.authorize({ door: 'api', token: 'ci' }, spec('pull busybox'), 'local'), 'operator');
  await assert.rejects(p.authorize({ door: 'api', token: 'other' }, spec('ps'), 'local'), /token "other" has no grant/);
});

test('without a policy file: tokens are admins, Slack users get the default role', async () => {
  const p = new Permissions(undefined, 'viewer');
  assert.equal(await p.authorize({ door: 'api', token: 't' }, spec('rm -f x'), 'local'), 'admin');
  assert.equal(await p.authorize({ door: 'slack', user: 'U', channel: 'C' }, spec('ps'), 'local'), 'viewer');
  await assert.rejects(p.authorize({ door: 'slack', user: 'U', channel: 'C' }, spec('stop x'), 'local'), /needs the operator role/);
});

test('a bad policy file names the file and the line', () => {
  assert.throws(
    () => policy('grants:\n  - slack_users: [U1]\n    role: admin\n  - api_tokens: [ci]\n    role: superuser\n'),
    (e: unknown) => /p[0-9.]+\.yml:5: grants\.1\.role/.test((e as Error).message),
  );
  assert.throws(() => policy('grants:\n  - role: admin\n'), /needs slack_users, slack_channels, slack_usergroups or api_tokens/);
  assert.throws(() => policy('grants:\n  - slack_users: [U1]\n    role: admin\n    colour: blue\n'), /colour|Unrecognized/);
  assert.doesNotThrow(() => loadPolicyFile(path.join(ROOT, 'policy.example.yml')));
});

test('grants by Slack user group (ID or handle), looked up with usergroups.users.list through the real web-api, cached for a short while', async () => {
  const { WebClient } = await import('@slack/web-api');
  const { SlackUsergroups } = await import('../../src/policy/usergroups.js');
  const { standInSlack } = await import('../support/slack.js');
  const groups = { S0OPS: { handle: 'oncall', users: ['U5'] }, S0DEVS: { handle: 'devs', users: ['U6'] } };
  const slack = await standInSlack({ usergroups: groups, usergroupErrors: { S0BROKEN: 'missing_scope' } });
  try {
    let clock = 1_000_000;
    const web = new WebClient('xoxb-test', { slackApiUrl: `${slack.url}/api/`, retryConfig: { retries: 0 } });
    const p = new Permissions(
      policy(`grants:
  - slack_usergroups: [S0OPS]
    role: operator
  - slack_usergroups: ["@devs"]
    role: viewer
  - slack_users: [U1]
    role: admin
`),
      'viewer',
      new SlackUsergroups(web, 60_000, () => clock),
    );
    const calls = () => slack.posts.filter((x) => x.path.startsWith('/api/usergroups.')).map((x) => `${x.path.slice(5)} ${x.body.usergroup ?? ''}`.trim());
    assert.equal(await p.authorize({ door: 'slack', user: 'U5', channel: 'C9' }, spec('restart web-1'), 'local'), 'operator');
    assert.equal(await p.authorize({ door: 'slack', user: 'U6', channel: 'C9' }, spec('ps'), 'local'), 'viewer');
    await assert.rejects(p.authorize({ door: 'slack', user: 'U6', channel: 'C9' }, spec('restart web-1'), 'local'), /needs the operator role; <@U6> is viewer/);
    await assert.rejects(p.authorize({ door: 'slack', user: 'U7', channel: 'C9' }, spec('ps'), 'local'), /<@U7> has no grant/);
    assert.deepEqual(calls().sort(), ['usergroups.list', 'usergroups.users.list S0DEVS', 'usergroups.users.list S0OPS'], 'each group looked up once, the handle through usergroups.list');
    // A direct grant needs no look-up at all.
    assert.equal(await p.authorize({ door: 'slack', user: 'U1', channel: 'C9' }, spec('rm -f x'), 'local'), 'admin');
    assert.equal(calls().length, 3);
    // Removed from the group: still a member until the cache lapses, then not.
    groups.S0OPS.users = [];
    assert.equal(await p.authorize({ door: 'slack', user: 'U5', channel: 'C9' }, spec('ps'), 'local'), 'operator');
    clock += 61_000;
    await assert.rejects(p.authorize({ door: 'slack', user: 'U5', channel: 'C9' }, spec('ps'), 'local'), /<@U5> has no grant/);
    assert.ok(calls().length > 3, 'asked Slack again after the TTL');
  } finally {
    await slack.close();
  }
});

test('a user group that cannot be looked up denies, and the refusal says why', async () => {
  const { WebClient } = await import('@slack/web-api');
  const { SlackUsergroups } = await import('../../src/policy/usergroups.js');
  const { standInSlack } = await import('../support/slack.js');
  const slack = await standInSlack({ usergroups: { S0VIEW: { users: ['U5'] } }, usergroupErrors: { S0BROKEN: 'missing_scope' } });
  try {
    const web = new WebClient('xoxb-test', { slackApiUrl: `${slack.url}/api/`, retryConfig: { retries: 0 } });
    const file = policy(`grants:
  - slack_usergroups: [S0BROKEN]
    role: admin
  - slack_usergroups: [S0VIEW]
    role: viewer
`);
    let clock = 1_000_000;
    const p = new Permissions(file, 'viewer', new SlackUsergroups(web, 60_000, () => clock));
    const broken = () => slack.posts.filter((x) => x.body?.usergroup === 'S0BROKEN').length;
    await assert.rejects(
      p.authorize({ door: 'slack', user: 'U5', channel: 'C9' }, spec('rm -f x'), 'local'),
      (e: unknown) => e instanceof PolicyError && /needs the admin role; <@U5> is viewer; could not check membership of Slack user group S0BROKEN \(Slack said: missing_scope\), so its grants were not applied/.test((e as Error).message),
    );
    assert.equal(await p.authorize({ door: 'slack', user: 'U5', channel: 'C9' }, spec('ps'), 'local'), 'viewer');
    // A failure is remembered for a few seconds (Slack's rate limit), then asked again.
    await assert.rejects(p.authorize({ door: 'slack', user: 'U5', channel: 'C9' }, spec('rm -f x'), 'local'), /S0BROKEN/);
    assert.equal(broken(), 1);
    clock += 11_000;
    await assert.rejects(p.authorize({ door: 'slack', user: 'U5', channel: 'C9' }, spec('rm -f x'), 'local'), /S0BROKEN/);
    assert.equal(broken(), 2);
    // With no way to look groups up at all (no bot token), the grants do not apply.
    await assert.rejects(new Permissions(file, 'viewer').authorize({ door: 'slack', user: 'U5', channel: 'C9' }, spec('ps'), 'local'), /no SLACK_BOT_TOKEN to look it up/);
  } finally {
    await slack.close();
  }
});

test('user groups in the policy file: checked with file:line, and they need SLACK_BOT_TOKEN', async () => {
  const { loadConfig, ConfigError } = await import('../../src/config.js');
  assert.throws(() => policy('grants:\n  - slack_users: [U1]\n    role: admin\n  - slack_usergroups: ["Ops Team"]\n    role: viewer\n'), /p[0-9.]+\.yml:4: grants\.1\.slack_usergroups\.0: a Slack user group ID \(S0123ABC\) or handle \(@oncall\)/);
  const f = path.join(dir, 'groups.yml');
  writeFileSync(f, 'grants:\n  - slack_usergroups: [S0OPS, "@oncall"]\n    role: operator\n');
  assert.throws(() => loadConfig({ DOCKOPS_POLICY_FILE: f, SLACK_SIGNING_SECRET: 'x'.repeat(32) }), (e: unknown) => e instanceof ConfigError && /DOCKOPS_POLICY_FILE: grants name slack_usergroups, .*SLACK_BOT_TOKEN/.test((e as Error).message));
  assert.doesNotThrow(() => loadConfig({ DOCKOPS_POLICY_FILE: f, SLACK_SIGNING_SECRET: 'x'.repeat(32), SLACK_BOT_TOKEN: 'xoxb-1' }));
});
