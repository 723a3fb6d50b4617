import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BLOCKS_MAX, SECTION_MAX, jobMessage, progressMessage, stripAnsi } from '../../src/render/slack.js';
import { verifySlackSignature, signSlackRequest } from '../../src/doors/slack/verify.js';

const view = { command: 'logs web', id: 'local.1', host: 'local', state: 'completed', exitCode: 0, result: null, error: null, durationMs: 1234, logUrl: 'http://x/api/jobs/local.1/logs' };

test('output is code blocks within Slack limits, ANSI stripped, mrkdwn escaped', () => {
  const msg = jobMessage(view, { stdout: '\u001b[31mred\u001b[0m <b> & done\n', stderr: '' });
  assert.equal(msg.blocks.length, 2);
  assert.deepEqual(msg.blocks[1], { type: 'section', text: { type: 'mrkdwn', text: '```red &lt;b&gt; &amp; done```' } });
  assert.match(JSON.stringify(msg.blocks[0]), /exit 0 · 1\.2 s/);
  assert.equal(stripAnsi('\u001b[1;32mok\u001b[0m'), 'ok');
});

test('long output is split on lines, capped at 50 blocks, and links the whole log', () => {
  const line = `${'x'.repeat(99)}\n`;
  const msg = jobMessage(view, { stdout: line.repeat(5000), stderr: 'warning\n' });
  assert.ok(msg.blocks.length <= BLOCKS_MAX);
  for (const b of msg.blocks) {
    const t = (b as { text?: { text: string } }).text?.text;
    if (t) assert.ok(t.length <= SECTION_MAX, `section of ${t.length}`);
  }
  assert.match(JSON.stringify(msg.blocks.at(-1)), /Whole log: <http:\/\/x\/api\/jobs\/local\.1\/logs\|job local\.1>/);
  assert.ok(JSON.stringify(msg.blocks).includes('warning'), 'stderr keeps a place');
});

test("Slack's v0 signature: constant-time match, several secrets, skew both ways", () => {
  const body = Buffer.from('token=x&text=ps');
  const now = 1_800_000_000_000;
  const sig = signSlackRequest(body, 'secret-one-0123456789', now / 1000);
  assert.deepEqual(verifySlackSignature(body, sig, ['secret-two-0123456789', 'secret-one-0123456789'], now), { ok: true });
  assert.equal(verifySlackSignature(body, sig, ['secret-two-0123456789'], now).ok, false);
  assert.equal(verifySlackSignature(Buffer.from('token=x&text=rm'), sig, ['secret-one-0123456789'], now).ok, false);
  assert.equal(verifySlackSignature(body, sig, ['secret-one-0123456789'], now + 301_000).ok, false);
  assert.equal(verifySlackSignature(body, sig, ['secret-one-0123456789'], now - 301_000).ok, false);
  assert.equal(verifySlackSignature(body, sig, ['secret-one-0123456789'], now + 299_000).ok, true);
  assert.equal(verifySlackSignature(body, { signature: 'v1=abc', timestamp: sig.timestamp }, ['secret-one-0123456789'], now).ok, false);
  assert.equal(verifySlackSignature(body, {}, ['secret-one-0123456789'], now).ok, false);
});

test('a running backup shows bytes read and written, the rate and the ETA', () => {
  const m = progressMessage({ command: 'volume backup db', id: 'local.1', host: 'local', elapsedMs: 4000 }, { phase: 'backup', volume: 'db', bytes: 300_000_000, written: 90_000_000, rate: 75_000_000, total: 1_000_000_000, etaSeconds: 9 }, '');
  const text = JSON.stringify(m.blocks);
  assert.match(text, /db: 300MB of about 1.0GB read, 90MB written · 75MB\/s · about 9 s left/);
  assert.doesNotMatch(text, /so far/);
});
