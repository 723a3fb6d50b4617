import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { classifySlackBody, guardSocketFrames, readSlackBody } from '../../src/doors/slack/gate.js';
import { blockActionPayload, clearMessageProblem } from '../support/hostile.js';

const click = (o: Partial<Parameters<typeof blockActionPayload>[0]> = {}) => blockActionPayload({ actionId: 'dockops_cancel', value: 'local.1', responseUrl: 'https://hooks.slack.com/actions/T/1/x', ...o });

test('Slack gate: well-formed dockops clicks and commands go to Bolt, other Slack bodies are ignored, junk is refused clearly', () => {
  assert.deepEqual(classifySlackBody(click(), '/docker'), { to: 'bolt' });
  assert.deepEqual(classifySlackBody({ command: '/docker', text: 'ps', user_id: 'U1', channel_id: 'C1', team_id: 'T1', response_url: 'https://hooks.slack.com/x' }, '/docker'), { to: 'bolt' });
  assert.deepEqual(classifySlackBody({ type: 'url_verification', challenge: 'c' }, '/docker'), { to: 'bolt' });
  assert.equal(classifySlackBody(click({ actionId: 'someone_elses_button' }), '/docker').to, 'ignore');
  assert.equal(classifySlackBody({ type: 'view_submission' }, '/docker').to, 'ignore');
  assert.equal(classifySlackBody(click({ set: { actions: [] } }), '/docker').to, 'ignore');
  assert.equal(classifySlackBody({ command: '/other', text: 'x' }, '/docker').to, 'ignore');
  for (const bad of [null, [], 'x', 5, click({ drop: ['user'] }), click({ set: { 'user.id': 5 } }), click({ value: 'x'.repeat(2001) }), click({ responseUrl: 'javascript:alert(1)' }), { command: '/docker', text: null }]) {
    const v = classifySlackBody(bad, '/docker');
    assert.equal(v.to, 'refuse', JSON.stringify(bad)?.slice(0, 100));
    if (v.to === 'refuse') assert.equal(clearMessageProblem(v.message), undefined);
  }
});

test('Slack gate: a form whose payload is not JSON is a problem named in words, not an exception', () => {
  const r = readSlackBody(Buffer.from('payload=%7Bnot+json'), 'application/x-www-form-urlencoded');
  assert.ok('problem' in r && /not JSON/.test(r.problem));
  assert.deepEqual(readSlackBody(Buffer.from('payload=%7B%7D'), 'application/x-www-form-urlencoded'), { body: {} });
  assert.ok('problem' in readSlackBody(Buffer.from('payload=1&payload=2'), 'application/x-www-form-urlencoded'));
});

test('Socket Mode guard: junk frames never reach the client\'s handler (which throws on them); envelopes it drops are acked', async () => {
  const client = new EventEmitter() as EventEmitter & { send(id: string): Promise<void> };
  const seen: string[] = [];
  const acked: string[] = [];
  client.send = async (id: string) => void acked.push(id);
  // Stands in for @slack/socket-mode's onWebSocketMessage: it reads event.type of whatever comes.
  client.on('ws_message', async (data: string) => {
    const event = JSON.parse(data);
    seen.push(`${event.type}:${event.envelope_id ?? ''}`);
  });
  guardSocketFrames(client as never, '/docker', pino({ level: 'silent' }));
  for (const junk of ['null', '[]', '1', '{"type":"events_api","envelope_id":"e1"}', '{"type":"events_api","envelope_id":"e2","payload":{"event":null}}', '{"type":"ws_message","envelope_id":"e3"}', '{"type":"interactive"}', '{"type":"interactive","envelope_id":"e4","payload":null}', '{"type":{"toString":1}}']) {
    client.emit('ws_message', junk, false);
  }
  client.emit('ws_message', JSON.stringify({ type: 'hello' }), false);
  client.emit('ws_message', JSON.stringify({ type: 'interactive', envelope_id: 'ok1', payload: click() }), false);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['hello:', 'interactive:ok1']);
  assert.deepEqual(acked.sort(), ['e1', 'e2', 'e3', 'e4']);
});
