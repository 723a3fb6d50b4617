import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startService, type Service } from '../support/service.js';
import { postSigned, slashCommand, standInSlack } from '../support/slack.js';
import { dropPrefix, redis } from '../support/env.js';

const SECRET = 'slack-signing-secret-for-tests-0123456789';
const BOT = 'xoxb-test-token-for-the-stand-in';
// 30,000 numbered lines (about 360 kB): far more than 50 blocks of 3,000 characters hold.
const LONG = `i=0; while [ $i -lt 30000 ]; do echo "line $i of the long output"; i=$((i+1)); done`;
const services: Service[] = [];
let slack: Awaited<ReturnType<typeof standInSlack>>;

before(async () => {
  slack = await standInSlack();
});
after(async () => {
  const r = redis();
  for (const s of services) {
    await s.stop();
    await dropPrefix(r, s.prefix);
  }
  r.disconnect();
  await slack.close();
});

async function service(env: Record<string, string>) {
  const s = await startService({ SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: `${slack.url}/api/`, SLACK_ALLOWED_CHANNELS: 'C0OPS', SLACK_DEFAULT_ROLE: 'operator', DOCKOPS_PUBLIC_URL: 'https://dockops.example.com', ...env });
  services.push(s);
  return s;
}

type Block = { type: string; text?: { text: string }; elements?: Array<{ text: string }> };
const texts = (blocks: Block[]) => blocks.map((b) => b.text?.text ?? b.elements?.map((e) => e.text).join(' ') ?? '').join('\n');

test('long output: the message shows its end, the whole output goes into the thread with files.uploadV2, and the message links to the log', async () => {
  const svc = await service({ SLACK_BOT_TOKEN: BOT, SLACK_LIVE_AFTER_MS: '60000' });
  const ack = await postSigned(svc.url, slashCommand({ text: `run --rm busybox sh -c '${LONG}'`, responseUrl: `${slack.url}/respond/long1` }), SECRET);
  const id = /job (local\.\S+)/.exec(ack.body.text)?.[1] as string;
  assert.ok(id);
  const done = await slack.next('/api/files.completeUploadExternal', 60_000);
  // 1. The result as a message of its own (chat.postMessage gives the ts a thread needs).
  const posted = slack.posts.find((p) => p.path === '/api/chat.postMessage' && p.body.text?.startsWith('docker run'));
  assert.ok(posted, 'result message posted');
  assert.equal(posted.body.channel, 'C0OPS');
  const shown = texts(JSON.parse(posted.body.blocks));
  assert.match(shown, /exit 0/);
  assert.match(shown, /line 29999 of the long output/, 'the end of the output is shown');
  assert.doesNotMatch(shown, /line 0 of the long output/, 'not its beginning');
  assert.match(shown, new RegExp(`all of it is in the thread as ${id.replace(/\./g, '\\.')}\\.txt`));
  const link = new RegExp(`Whole log: <https://dockops\\.example\\.com(/jobs/${id.replace(/\./g, '\\.')}\\?expires=\\d+&sig=[0-9a-f]{64})\\|job ${id.replace(/\./g, '\\.')}>`).exec(shown);
  assert.ok(link, shown);
  // The link is the job page, signed: it opens without a login and shows the whole output.
  const page = await fetch(`${svc.url}${link[1]}`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /line 0 of the long output/);
  // 2. The queued line is taken away through the response_url.
  assert.deepEqual((await slack.next('/respond/long1')).body, { delete_original: true });
  // 3. files.getUploadURLExternal → the bytes to its upload_url → files.completeUploadExternal into the thread.
  const getUrl = slack.posts.find((p) => p.path === '/api/files.getUploadURLExternal');
  assert.ok(getUrl);
  assert.equal(getUrl.body.filename, `${id}.txt`);
  const upload = slack.posts.find((p) => p.path.startsWith('/upload/F'));
  assert.ok(upload, 'the file went to the upload_url');
  assert.match(upload.body, /line 0 of the long output\nline 1 of the long output\n/);
  assert.match(upload.body, /line 29999 of the long output\n/);
  assert.equal(Number(getUrl.body.length), Buffer.byteLength(Array.from({ length: 30000 }, (_, i) => `line ${i} of the long output\n`).join('')), 'the whole output, byte for byte');
  assert.equal(done.body.channel_id, 'C0OPS');
  assert.equal(done.body.thread_ts, posted.ts, 'into the thread of the result message');
  assert.deepEqual(JSON.parse(done.body.files).map((f: { id: string }) => f.id), [upload.path.slice('/upload/'.length)]);
  assert.ok(slack.posts.indexOf(posted) < slack.posts.indexOf(done), 'message first, then the file in its thread');
  // The token goes to Slack's own auth calls only, never into a message or the file.
  const leaked = slack.posts.filter((p) => !p.path.startsWith('/api/auth.') && JSON.stringify(p.body).includes(BOT));
  assert.deepEqual(leaked.map((p) => p.path), [], 'no message or file carries the token');
});

test('a job still running gets its live message, and that message is the thread the long output goes to', async () => {
  const svc = await service({ SLACK_BOT_TOKEN: BOT, SLACK_LIVE_AFTER_MS: '300' });
  const before = slack.posts.length;
  await postSigned(svc.url, slashCommand({ text: `run --rm busybox sh -c 'sleep 2; ${LONG}'`, responseUrl: `${slack.url}/respond/long2` }), SECRET);
  await slack.next('/respond/long2', 60_000);
  const mine = () => slack.posts.slice(before);
  for (let i = 0; i < 300 && !mine().some((p) => p.path === '/api/files.completeUploadExternal'); i++) await new Promise((r) => setTimeout(r, 100));
  const live = mine().filter((p) => p.path === '/api/chat.postMessage');
  assert.equal(live.length, 1, 'one message: the live one');
  const final = mine().filter((p) => p.path === '/api/chat.update').at(-1);
  assert.match(texts(JSON.parse(final?.body.blocks)), /line 29999 of the long output[\s\S]*all of it is in the thread/);
  const done = mine().find((p) => p.path === '/api/files.completeUploadExternal');
  assert.equal(done?.body.thread_ts, live[0].ts);
  assert.equal(final?.body.ts, live[0].ts, 'the live message became the result');
});

test('without a bot token: today\'s answer, the beginning and a link to the whole log, no Web API call', async () => {
  const svc = await service({});
  const before = slack.posts.length;
  await postSigned(svc.url, slashCommand({ text: `run --rm busybox sh -c '${LONG}'`, responseUrl: `${slack.url}/respond/long3` }), SECRET);
  const post = await slack.next('/respond/long3', 60_000);
  assert.equal(post.body.replace_original, true);
  const shown = texts(post.body.blocks);
  assert.match(shown, /line 0 of the long output/);
  assert.match(shown, /Output cut to fit Slack\. Whole log: <https:\/\/dockops\.example\.com\/jobs\/local\.[^?|]+\?expires=\d+&sig=[0-9a-f]{64}\|job local\./);
  // Not even auth.test: Bolt is given the (absent) bot token as it is, not made to check it per request.
  const calls = slack.posts.slice(before).filter((p) => p.path.startsWith('/api/') || p.path.startsWith('/upload/'));
  assert.deepEqual(calls.map((p) => p.path), []);
});
