import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { startService, type Service } from '../support/service.js';
import { postSigned, slashCommand, standInSlack } from '../support/slack.js';
import { dropPrefix, redis } from '../support/env.js';

const SECRET = 'slack-signing-secret-for-tests-0123456789';
const OLD_SECRET = 'the-previous-signing-secret-0000000000';
let svc: Service;
let slack: Awaited<ReturnType<typeof standInSlack>>;

before(async () => {
  slack = await standInSlack();
  svc = await startService({
    SLACK_SIGNING_SECRET: `${SECRET},${OLD_SECRET}`,
    SLACK_API_URL: `${slack.url}/api/`,
    SLACK_ALLOWED_CHANNELS: 'C0OPS',
    SLACK_DEFAULT_ROLE: 'operator',
  });
});
after(async () => {
  await svc.stop();
  await slack.close();
  const r = redis();
  await dropPrefix(r, svc.prefix);
  r.disconnect();
});

async function queued(): Promise<number> {
  const r = redis();
  const q = new Queue('jobs-local', { connection: r, prefix: svc.prefix });
  const n = await q.getJobCountByTypes('waiting', 'active', 'completed', 'failed', 'delayed');
  await q.close();
  r.disconnect();
  return n;
}

test('/docker run: acked at once in the channel, the result reaches the response_url as Block Kit', async () => {
  const body = slashCommand({ text: `run --rm busybox sh -c 'echo hello from slack; exit 2'`, responseUrl: `${slack.url}/respond/1` });
  const ack = await postSigned(svc.url, body, SECRET);
  assert.equal(ack.status, 200);
  assert.equal(ack.body.response_type, 'in_channel');
  assert.match(ack.body.text, /`docker run --rm busybox sh -c 'echo hello from slack; exit 2'` · job local\./);
  const post = await slack.next('/respond/1');
  assert.equal(post.body.replace_original, true);
  assert.equal(post.body.response_type, 'in_channel');
  const blocks = post.body.blocks as Array<{ type: string; text?: { text: string }; elements?: Array<{ text: string }> }>;
  assert.match(blocks[0].elements?.[0].text ?? '', /exit 2/);
  assert.equal(blocks[1].text?.text, '```hello from slack```');
});

test('a key rotated out still verifies while listed; usage errors come back at once in docker words', async () => {
  const ack = await postSigned(svc.url, slashCommand({ text: 'run --foo busybox', responseUrl: `${slack.url}/respond/2` }), OLD_SECRET);
  assert.equal(ack.status, 200);
  assert.equal(ack.body.response_type, 'ephemeral');
  assert.equal(ack.body.text, "```unknown flag: --foo\nSee 'docker run --help'.```");
  const help = await postSigned(svc.url, slashCommand({ text: 'ps --help', responseUrl: `${slack.url}/respond/3` }), SECRET);
  assert.match(help.body.text, /Usage:  docker ps \[OPTIONS\]/);
  const injection = await postSigned(svc.url, slashCommand({ text: 'ps; rm -rf /', responseUrl: `${slack.url}/respond/4` }), SECRET);
  assert.match(injection.body.text, /shell operator/);
  const policy = await postSigned(svc.url, slashCommand({ text: 'run --privileged busybox', responseUrl: `${slack.url}/respond/5` }), SECRET);
  assert.match(policy.body.text, /refused by policy/);
});

test('refused before anything is enqueued: bad signature, stale or future timestamp, other channels', async () => {
  const before = await queued();
  const body = slashCommand({ text: 'ps', responseUrl: `${slack.url}/respond/x` });
  const bad = await postSigned(svc.url, body, 'not-the-secret-0000000000000000');
  assert.equal(bad.status, 401);
  assert.match(bad.body.message, /signature does not match/);
  const tampered = await postSigned(svc.url, body.replace('text=ps', 'text=images'), SECRET, { signature: (await import('../../src/doors/slack/verify.js')).signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000)).signature });
  assert.equal(tampered.status, 401);
  const old = await postSigned(svc.url, body, SECRET, { timestampSec: Math.floor(Date.now() / 1000) - 6 * 60 });
  assert.equal(old.status, 401);
  assert.match(old.body.message, /possible replay/);
  const future = await postSigned(svc.url, body, SECRET, { timestampSec: Math.floor(Date.now() / 1000) + 6 * 60 });
  assert.equal(future.status, 401);
  const unsigned = await fetch(`${svc.url}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  assert.equal(unsigned.status, 401);
  const elsewhere = await postSigned(svc.url, slashCommand({ text: 'ps', channel: 'C0RANDOM', responseUrl: `${slack.url}/respond/y` }), SECRET);
  assert.equal(elsewhere.body.response_type, 'ephemeral');
  assert.match(elsewhere.body.text, /not enabled in this channel/);
  assert.equal(await queued(), before, 'nothing was enqueued');
});

test('the same invocation delivered twice is one job', async () => {
  const body = slashCommand({ text: 'version --format {{.Server.Os}}', responseUrl: `${slack.url}/respond/6`, triggerId: '1234.5678.abcdef' });
  const a = await postSigned(svc.url, body, SECRET);
  const b = await postSigned(svc.url, body, SECRET);
  const id = (s: string) => /job (local\.\S+)/.exec(s)?.[1];
  assert.ok(id(a.body.text));
  assert.equal(id(a.body.text), id(b.body.text));
  const post = await slack.next('/respond/6');
  assert.match(JSON.stringify(post.body.blocks), /```linux```/);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(slack.posts.filter((p) => p.path === '/respond/6').length, 1, 'reported once');
});

test('a long job gets a live message (chat.postMessage, then chat.update at most once a second, 429 honoured) that becomes its result', async () => {
  const live = await standInSlack({ rateLimitOnce: ['/api/chat.update'] });
  const own = await startService({
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_BOT_TOKEN: 'xoxb-test-token-for-the-stand-in',
    SLACK_API_URL: `${live.url}/api/`,
    SLACK_ALLOWED_CHANNELS: '*',
    SLACK_DEFAULT_ROLE: 'operator',
    SLACK_LIVE_AFTER_MS: '300',
  });
  try {
    const body = slashCommand({ text: `run --rm busybox sh -c 'echo first; sleep 4; echo second'`, responseUrl: `${live.url}/respond/live` });
    const ack = await postSigned(own.url, body, SECRET);
    assert.equal(ack.status, 200);
    const del = await live.next('/respond/live', 40_000);
    assert.deepEqual(del.body, { delete_original: true }, 'the queued line is replaced by the live message');
    const posted = live.posts.filter((p) => p.path === '/api/chat.postMessage');
    assert.equal(posted.length, 1, 'one message per job');
    assert.equal(posted[0].body.channel, 'C0OPS');
    assert.match(posted[0].body.blocks, /running/);
    const updates = live.posts.filter((p) => p.path === '/api/chat.update');
    assert.ok(live.posts.some((p) => p.path === '/api/chat.update#429'), 'Slack answered 429 once');
    assert.ok(updates.length >= 2, 'progress updates and the final one');
    for (let i = 1; i < updates.length; i++) assert.ok(updates[i].at - updates[i - 1].at >= 900, 'about one update a second at most');
    const last = updates[updates.length - 1].body;
    assert.match(last.blocks, /exit 0/);
    assert.match(last.blocks, /first\\nsecond/);
    assert.ok(updates.some((u) => /first/.test(u.body.blocks) && /running/.test(u.body.blocks)), 'output shown while it runs');
    // The token goes to Slack's own auth calls only, never into a message.
    const leaked = live.posts.filter((p) => !p.path.startsWith('/api/auth.') && JSON.stringify(p.body).includes('xoxb-test-token'));
    assert.deepEqual(leaked.map((p) => p.path), [], 'no message carries the token');
  } finally {
    await own.stop();
    await live.close();
    const r = redis();
    await dropPrefix(r, own.prefix);
    r.disconnect();
  }
});

test('destructive commands wait for a confirm button; the button is checked again and works once', async () => {
  const { dockerCli, uniqueName } = await import('../support/env.js');
  const { blockAction } = await import('../support/slack.js');
  const name = uniqueName('confirm');
  assert.equal(dockerCli(['run', '-d', '--name', name, 'busybox:latest', 'sleep', '60']).status, 0);
  try {
    const ack = await postSigned(svc.url, slashCommand({ text: `stop -t 1 ${name}`, responseUrl: `${slack.url}/respond/c0` }), SECRET);
    assert.equal(ack.body.response_type, 'ephemeral');
    const button = ack.body.blocks[1].elements[0];
    assert.equal(button.action_id, 'dockops_confirm');
    assert.ok(button.confirm, 'Slack shows its own confirm dialog first');
    assert.equal(dockerCli(['inspect', '-f', '{{.State.Running}}', name]).stdout, 'true\n', 'nothing ran before the click');
    // Someone without a grant clicking is refused (permissions are checked again on click).
    const stranger = await postSigned(svc.url, blockAction({ actionId: 'dockops_confirm', value: button.value, user: 'U0MALLORY', channel: 'C0RANDOM', responseUrl: `${slack.url}/respond/c-stranger` }), SECRET);
    assert.equal(stranger.status, 200);
    const strangerAnswer = await slack.next('/respond/c-stranger');
    assert.match(strangerAnswer.body.text, /Only <@U0ALICE>, who typed it, can confirm/);
    assert.equal(dockerCli(['inspect', '-f', '{{.State.Running}}', name]).stdout, 'true\n', 'still nothing ran');
    const token = button.value;
    const click = await postSigned(svc.url, blockAction({ actionId: 'dockops_confirm', value: token, responseUrl: `${slack.url}/respond/c1` }), SECRET);
    assert.equal(click.status, 200);
    const queued = await slack.next('/respond/c1');
    assert.match(queued.body.text, /job local\./);
    for (let i = 0; i < 100 && dockerCli(['inspect', '-f', '{{.State.Running}}', name]).stdout === 'true\n'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(dockerCli(['inspect', '-f', '{{.State.Running}}', name]).stdout, 'false\n', 'stopped after the click');
    await postSigned(svc.url, blockAction({ actionId: 'dockops_confirm', value: token, responseUrl: `${slack.url}/respond/c2` }), SECRET);
    assert.match((await slack.next('/respond/c2')).body.text, /expired or was already used/);
  } finally {
    dockerCli(['rm', '-f', name]);
  }
});

test('Cancel stops a running job; Retry runs a failed one again', async () => {
  const { blockAction } = await import('../support/slack.js');
  const ack = await postSigned(svc.url, slashCommand({ text: 'run --rm busybox sleep 60', responseUrl: `${slack.url}/respond/k1` }), SECRET);
  const cancel = ack.body.blocks[1].elements[0];
  assert.equal(cancel.action_id, 'dockops_cancel');
  const r = redis();
  const q = new Queue('jobs-local', { connection: r, prefix: svc.prefix });
  for (let i = 0; i < 100 && (await (await q.getJob(cancel.value))?.getState()) !== 'active'; i++) await new Promise((res) => setTimeout(res, 50));
  await postSigned(svc.url, blockAction({ actionId: 'dockops_cancel', value: cancel.value, responseUrl: `${slack.url}/respond/k1` }), SECRET);
  const result = await slack.next('/respond/k1');
  assert.match(JSON.stringify(result.body.blocks), /failed: cancelled/);
  assert.match(JSON.stringify(result.body.blocks), /dockops_retry/);

  const failing = await postSigned(svc.url, slashCommand({ text: `run --rm busybox sh -c 'exit 3'`, responseUrl: `${slack.url}/respond/r1` }), SECRET);
  assert.equal(failing.status, 200);
  const first = await slack.next('/respond/r1');
  const retry = first.body.blocks.find((b: { type: string }) => b.type === 'actions').elements[0];
  assert.equal(retry.action_id, 'dockops_retry');
  await postSigned(svc.url, blockAction({ actionId: 'dockops_retry', value: retry.value, responseUrl: `${slack.url}/respond/r2` }), SECRET);
  const retried = await slack.next('/respond/r2');
  assert.match(retried.body.text, /retried `docker run --rm busybox sh -c 'exit 3'` · job local\./);
  const newId = /job (local\.\S+)/.exec(retried.body.text)?.[1] as string;
  assert.notEqual(newId, retry.value);
  for (let i = 0; i < 100 && (await (await q.getJob(newId))?.getState()) !== 'completed'; i++) await new Promise((res) => setTimeout(res, 50));
  assert.equal(((await q.getJob(newId))?.returnvalue as { exitCode: number }).exitCode, 3);
  await q.close();
  r.disconnect();
});
