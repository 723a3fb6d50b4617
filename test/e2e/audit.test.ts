import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, cli, startService, type Service } from '../support/service.js';
import { postSigned, slashCommand, standInSlack } from '../support/slack.js';
import { dropPrefix, redis } from '../support/env.js';

const SECRET = 'slack-signing-secret-for-tests-0123456789';
const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-audit-'));
let svc: Service;
let slack: Awaited<ReturnType<typeof standInSlack>>;

before(async () => {
  slack = await standInSlack({ usergroups: { S0OPS: { handle: 'ops', users: ['U0BOB'] } }, usergroupErrors: { S0BROKEN: 'missing_scope' } });
  const policy = path.join(dir, 'policy.yml');
  writeFileSync(
    policy,
    `grants:
  - slack_users: [U0ADMIN]
    role: admin
  - slack_usergroups: ["@ops"]
    role: operator
  - slack_usergroups: [S0BROKEN]
    role: viewer
  - api_tokens: [e2e]
    role: admin
`,
  );
  svc = await startService({
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_BOT_TOKEN: 'xoxb-test-token-for-the-stand-in',
    SLACK_API_URL: `${slack.url}/api/`,
    SLACK_ALLOWED_CHANNELS: 'C0OPS',
    SLACK_LIVE_AFTER_MS: '60000',
    DOCKOPS_POLICY_FILE: policy,
  });
});
after(async () => {
  await svc.stop();
  await slack.close();
  const r = redis();
  await dropPrefix(r, svc.prefix);
  r.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

test('a user group grant lets its members run what their role allows; a group Slack cannot look up denies, saying why', async () => {
  const run = await postSigned(svc.url, slashCommand({ user: 'U0BOB', text: `run --rm -e SECRET_TOKEN=hunter2 busybox sh -c 'echo ran'`, responseUrl: `${slack.url}/respond/a1` }), SECRET);
  assert.equal(run.body.response_type, 'in_channel', 'U0BOB is in @ops: operator');
  assert.match(JSON.stringify((await slack.next('/respond/a1')).body.blocks), /```ran```/);
  assert.ok(slack.posts.some((p) => p.path === '/api/usergroups.users.list' && p.body.usergroup === 'S0OPS'), 'membership asked of Slack');
  const rm = await postSigned(svc.url, slashCommand({ user: 'U0BOB', text: 'rm -f nothing-here', responseUrl: `${slack.url}/respond/a2` }), SECRET);
  assert.equal(rm.body.response_type, 'ephemeral');
  assert.match(rm.body.text, /container rm needs the admin role; &lt;@U0BOB&gt; is operator/);
  const carol = await postSigned(svc.url, slashCommand({ user: 'U0CAROL', text: 'ps', responseUrl: `${slack.url}/respond/a3` }), SECRET);
  assert.equal(carol.body.response_type, 'ephemeral');
  assert.match(carol.body.text, /refused by policy: &lt;@U0CAROL&gt; has no grant .*could not check membership of Slack user group S0BROKEN \(Slack said: missing_scope\), so its grants were not applied/);
});

test('/docker audit: admins only, answered only to the asker as a table, secrets masked; the CLI and the API have it too', async () => {
  const denied = await postSigned(svc.url, slashCommand({ user: 'U0BOB', text: 'audit', responseUrl: `${slack.url}/respond/b1` }), SECRET);
  assert.equal(denied.body.response_type, 'ephemeral');
  assert.match(denied.body.text, /refused by policy: audit needs the admin role; &lt;@U0BOB&gt; is operator/);

  const before = slack.posts.length;
  const ack = await postSigned(svc.url, slashCommand({ user: 'U0ADMIN', text: 'audit --limit 10 --door slack', responseUrl: `${slack.url}/respond/b2` }), SECRET);
  assert.equal(ack.body.response_type, 'ephemeral', 'the ack shows in the channel to the admin only');
  assert.match(ack.body.text, /`docker audit --limit 10 --door slack` · job local\..* only you will see the answer/);
  const answer = await slack.next('/respond/b2');
  assert.equal(answer.body.response_type, 'ephemeral');
  const table = (answer.body.blocks as Array<{ text?: { text: string } }>).map((b) => b.text?.text ?? '').join('\n');
  assert.match(table, /TIME +DOOR +WHO +WHERE +OUTCOME +JOB +COMMAND/);
  assert.match(table, /slack +U0BOB +T0001\/C0OPS +exit 0 in \d+\.\ds +local\.\S+ +run --rm -e SECRET_TOKEN=\*\*\* busybox sh -c 'echo ran'/);
  assert.match(table, /slack +U0CAROL +T0001\/C0OPS +refused: &lt;@U0CAROL&gt; has no grant in the policy/);
  assert.match(table, /slack +U0BOB +T0001\/C0OPS +refused: audit needs the admin role; &lt;@U0BOB&gt; is operator; … +audit\n/);
  assert.doesNotMatch(JSON.stringify(answer.body), /hunter2/, 'the secret the command carried is not in the audit');
  const web = slack.posts.slice(before).filter((p) => p.path.startsWith('/api/chat.') || p.path.startsWith('/api/files.'));
  assert.deepEqual(web.map((p) => p.path), [], 'nothing posted in the channel or a thread');

  const bob = await cli(svc, ['audit', '--user', 'U0BOB', '--format', '{{.Outcome}}|{{.Command}}']);
  assert.equal(bob.code, 0, bob.stderr);
  const lines = bob.stdout.trim().split('\n');
  assert.ok(lines.length >= 3, bob.stdout);
  assert.match(lines.at(-1) as string, /^exit 0 in \d+\.\ds\|run --rm -e SECRET_TOKEN=\*\*\* busybox sh -c 'echo ran'$/, 'oldest last');
  assert.ok(lines.every((l) => !l.includes('hunter2')));
  const audited = await api(svc, 'GET', '/api/audit?count=50');
  assert.equal(audited.status, 200);
  assert.doesNotMatch(JSON.stringify(audited.body), /hunter2/);
  assert.ok(audited.body.entries.some((e: { command: string; door: string }) => e.door === 'cli' && e.command.startsWith('audit --user U0BOB')), 'the audit itself is audited');
  const bad = await cli(svc, ['audit', '--door', 'carrier-pigeon']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid argument "carrier-pigeon" for "--door" flag/);
});
