import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startService, type Service } from '../support/service.js';
import { slashEnvelope, standInSlack } from '../support/slack.js';
import { dropPrefix, redis } from '../support/env.js';

const APP_TOKEN = 'xapp-1-A0DOCKOPS-1234-stand-in-app-token';
let svc: Service;
let slack: Awaited<ReturnType<typeof standInSlack>>;

before(async () => {
  slack = await standInSlack();
  // No signing secret: Socket Mode only.
  svc = await startService({
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: `${slack.url}/api/`,
    SLACK_ALLOWED_CHANNELS: 'C0OPS',
    SLACK_DEFAULT_ROLE: 'operator',
  });
  await slack.connected();
});
after(async () => {
  await svc.stop();
  await slack.close();
  const r = redis();
  await dropPrefix(r, svc.prefix);
  r.disconnect();
});

test('Socket Mode: apps.connections.open with the app token, then a slash command over the WebSocket is acked in its envelope, run and reported', async () => {
  const open = slack.posts.find((p) => p.path === '/api/apps.connections.open');
  assert.ok(open, 'the WebSocket URL came from apps.connections.open');
  assert.equal(open.headers?.authorization, `Bearer ${APP_TOKEN}`);
  slack.sendEnvelope(slashEnvelope('env-run-1', { text: `run --rm busybox sh -c 'echo over the socket'`, responseUrl: `${slack.url}/respond/s1` }));
  const ack = await slack.ackOf('env-run-1');
  assert.equal(ack.payload.response_type, 'in_channel');
  assert.match(ack.payload.text, /`docker run --rm busybox sh -c 'echo over the socket'` · job local\./);
  assert.equal(ack.payload.blocks[1].elements[0].action_id, 'dockops_cancel');
  const result = await slack.next('/respond/s1');
  assert.equal(result.body.replace_original, true);
  assert.match(JSON.stringify(result.body.blocks), /exit 0/);
  assert.match(JSON.stringify(result.body.blocks), /```over the socket```/);
});

test('Socket Mode: usage errors and channel refusals come back in the ack, nothing runs; no HTTP endpoint without a signing secret', async () => {
  slack.sendEnvelope(slashEnvelope('env-bad-1', { text: 'run --foo busybox', responseUrl: `${slack.url}/respond/s2` }));
  const bad = await slack.ackOf('env-bad-1');
  assert.equal(bad.payload.response_type, 'ephemeral');
  assert.equal(bad.payload.text, "```unknown flag: --foo\nSee 'docker run --help'.```");
  slack.sendEnvelope(slashEnvelope('env-elsewhere', { text: 'ps', channel: 'C0RANDOM', responseUrl: `${slack.url}/respond/s3` }));
  assert.match((await slack.ackOf('env-elsewhere')).payload.text, /not enabled in this channel/);
  const res = await fetch(`${svc.url}/slack/events`, { method: 'POST', body: 'x' });
  assert.equal(res.status, 404);
  await res.text();
});

test('Socket Mode: buttons come over the WebSocket too (Cancel stops a running job)', async () => {
  const { blockAction } = await import('../support/slack.js');
  const { Queue } = await import('bullmq');
  slack.sendEnvelope(slashEnvelope('env-sleep', { text: 'run --rm busybox sleep 60', responseUrl: `${slack.url}/respond/s4` }));
  const ack = await slack.ackOf('env-sleep');
  const cancel = ack.payload.blocks[1].elements[0];
  const r = redis();
  const q = new Queue('jobs-local', { connection: r, prefix: svc.prefix });
  try {
    for (let i = 0; i < 100 && (await (await q.getJob(cancel.value))?.getState()) !== 'active'; i++) await new Promise((res) => setTimeout(res, 50));
    const payload = JSON.parse(new URLSearchParams(blockAction({ actionId: 'dockops_cancel', value: cancel.value, responseUrl: `${slack.url}/respond/s4` })).get('payload') as string);
    slack.sendEnvelope({ envelope_id: 'env-click', type: 'interactive', accepts_response_payload: false, payload });
    await slack.ackOf('env-click');
    const result = await slack.next('/respond/s4');
    assert.match(JSON.stringify(result.body.blocks), /failed: cancelled/);
    // A --rm container is gone after a cancel, even one cancelled before it started.
    const { docker } = await import('../support/env.js');
    const left = await docker().listContainers({ all: true, filters: JSON.stringify({ label: [`dockops.job-id=${cancel.value}`] }) } as {});
    assert.deepEqual(left.map((c) => c.State), []);
  } finally {
    await q.close();
    r.disconnect();
  }
});
