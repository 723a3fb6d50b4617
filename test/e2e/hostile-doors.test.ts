import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { api, startService, type Service } from '../support/service.js';
import { dropPrefix, redis } from '../support/env.js';
import { postSigned, slashCommand, slashEnvelope, standInSlack } from '../support/slack.js';
import { signSlackRequest } from '../../src/doors/slack/verify.js';
import { blockActionPayload, checkProperty, clearMessageProblem, E2E_RUNS, interactiveBody, internalErrors, rawRequest } from '../support/hostile.js';

/**
 * Hostile input through the doors test/e2e/hostile.test.ts leaves out: Slack button clicks
 * (block_actions, signed correctly), Socket Mode frames, and artifact uploads, against the real
 * `dockops start` process. It never crashes or logs an internal error, every answer is one a
 * person can act on, junk enqueues nothing, and real clicks, envelopes and uploads still work.
 *
 * `dockops serve`: the doors only, no worker, so nothing enqueued runs; and its one host points at
 * an engine socket that does not exist (the doors never call the engine).
 */
const SECRET = 'hostile-doors-slack-secret-0123';
const GH_SECRET = 'hostile-doors-github-secret';
const APP_TOKEN = 'xapp-1-A0DOCKOPS-1-hostile-doors';
const ARTIFACT_MAX = 256 * 1024;
const OUR_ACTIONS = ['dockops_confirm', 'dockops_dismiss', 'dockops_cancel', 'dockops_retry'];
let dir: string;
let artifactDir: string;
let svc: Service;
let slack: Awaited<ReturnType<typeof standInSlack>>;
let conn: Redis;
let queue: Queue;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-hostile-doors-'));
  artifactDir = path.join(dir, 'artifacts');
  const jobs = path.join(dir, 'jobs');
  mkdirSync(jobs);
  writeFileSync(path.join(jobs, 'builds.yml'), `builds:\n  - repository: acme/app\n    source: file://${dir}/nowhere\n    image: localhost:5000/acme/app\n    rules:\n      - type: branch\n        name: main\n        tag: latest\n`);
  writeFileSync(path.join(dir, 'policy.yml'), 'grants:\n  - slack_users: [U0ADMIN]\n    role: admin\n  - slack_users: [U0VIEWER]\n    role: viewer\n  - api_tokens: [e2e]\n    role: admin\n');
  slack = await standInSlack();
  svc = await startService({
    DOCKOPS_DOCKER_HOSTS: `local=unix://${dir}/no-engine.sock`,
    DOCKOPS_ARTIFACT_DIR: artifactDir,
    DOCKOPS_ARTIFACT_MAX_BYTES: String(ARTIFACT_MAX),
    DOCKOPS_JOBS_DIR: jobs,
    DOCKOPS_POLICY_FILE: path.join(dir, 'policy.yml'),
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: `${slack.url}/api/`,
    SLACK_ALLOWED_CHANNELS: '*',
    GITHUB_WEBHOOK_SECRET: GH_SECRET,
  }, 'serve');
  conn = redis();
  queue = new Queue('jobs-local', { connection: conn, prefix: svc.prefix });
  await slack.connected();
});

after(async () => {
  await svc?.stop();
  await slack?.close();
  await queue?.close();
  if (conn) {
    await dropPrefix(conn, svc.prefix);
    conn.disconnect();
  }
  rmSync(dir, { recursive: true, force: true });
});

async function total(): Promise<number> {
  const c = await queue.getJobCounts();
  return Object.values(c).reduce((a, b) => a + b, 0);
}

/** The process is up and has logged no internal error, stack or unhandled rejection. */
function healthy() {
  assert.equal(svc.proc.exitCode, null, `the service exited:\n${svc.stderr().slice(-2000)}`);
  assert.deepEqual(internalErrors(svc.logs(), svc.stderr()), []);
}

/** Posts a body to /slack/events signed correctly, with a content type of choice. */
async function postRawSigned(body: string, contentType: string) {
  const sig = signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000));
  const res = await fetch(`${svc.url}/slack/events`, { method: 'POST', headers: { 'content-type': contentType, 'x-slack-signature': sig.signature, 'x-slack-request-timestamp': sig.timestamp }, body });
  const text = await res.text();
  let json: { message?: string } | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, type: res.headers.get('content-type') ?? '' };
}

const RESPOND = () => `${slack.url}/respond/fuzz`;
const KEYS = ['type', 'user', 'user.id', 'user.team_id', 'channel', 'channel.id', 'team', 'team.id', 'team.enterprise_id', 'enterprise', 'is_enterprise_install', 'api_app_id', 'token', 'container', 'container.channel_id', 'trigger_id', 'state', 'function_data', 'bot_access_token', 'message', 'response_url', 'actions', 'actions.0', 'actions.0.action_id', 'actions.0.block_id', 'actions.0.value', 'actions.0.type', 'actions.1'];
const junk = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, [], {}, '', 'x'.repeat(5000), -1, 1e308, true, { id: null }, [{}]));

/** A click as Slack sends it, then bent: keys dropped or replaced with junk, values odd or huge. */
const mutatedClick = fc
  .record({
    actionId: fc.oneof(fc.constantFrom(...OUR_ACTIONS), fc.constantFrom('dockops_confirm ', 'DOCKOPS_CANCEL', 'dockops_', 'other_button', ''), fc.string({ maxLength: 30 })),
    value: fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[0-9a-f]{24}$/), fc.constantFrom('local.1', '../x', 'x'.repeat(1999), 'x'.repeat(2001), 'a'.repeat(40_000)), fc.jsonValue({ maxDepth: 1 })),
    user: fc.constantFrom('U0ADMIN', 'U0VIEWER', 'U0NOBODY'),
    drop: fc.subarray(KEYS, { maxLength: 3 }),
    set: fc.dictionary(fc.constantFrom(...KEYS), junk, { maxKeys: 3 }),
  })
  .map((o) => blockActionPayload({ ...o, responseUrl: RESPOND() }));

/** Everything a signed interactivity request can carry: bent clicks, any JSON, text that is not JSON. */
const interactivity = fc.oneof(
  { weight: 4, arbitrary: mutatedClick.map((p) => ({ body: interactiveBody(p), type: 'application/x-www-form-urlencoded' })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((p) => ({ body: interactiveBody(p), type: 'application/x-www-form-urlencoded' })) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('{', '{"type":', 'undefined', 'NaN', '\u0000', "{'a':1}")).filter((s) => !isJson(s)).map((s) => ({ body: interactiveBody(s), type: 'application/x-www-form-urlencoded' })) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('payload', 'command', 'text', 'user_id', 'type', 'x'), fc.string({ maxLength: 20 }), { maxKeys: 4 }).map((f) => ({ body: new URLSearchParams(f).toString(), type: 'application/x-www-form-urlencoded' })) },
  { weight: 1, arbitrary: fc.record({ body: fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), fc.string({ maxLength: 40 })), type: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded; charset=utf-8') }) },
);

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

test('Slack buttons: signed junk clicks get a 2xx ack or a clear JSON 400, enqueue nothing; a real click still runs', async () => {
  const tally = { ack: 0, refused: 0 };
  const before = await total();
  await checkProperty(
    fc.asyncProperty(interactivity, async ({ body, type }) => {
      const res = await postRawSigned(body, type);
      const what = `${type} ${body.slice(0, 300)} → ${res.status} ${res.text.slice(0, 300)}`;
      if (res.status === 200) {
        tally.ack++;
        assert.ok(res.text === '' || res.json !== undefined, `an ack is empty or JSON: ${what}`);
      } else {
        tally.refused++;
        assert.equal(res.status, 400, what);
        assert.match(res.type, /application\/json/, what);
        assert.equal(clearMessageProblem(res.json?.message), undefined, what);
      }
      assert.equal(svc.proc.exitCode, null, `the service exited after ${what}`);
    }),
  );
  assert.ok(tally.ack > 0 && tally.refused > 0, JSON.stringify(tally));
  // The handlers answer through response_url after the ack: give them the time to (not) enqueue.
  await slack.next('/respond/fuzz', 10_000).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await total(), before, 'a junk click enqueued a job');
  healthy();

  // A real destructive command, confirmed by a real click, still runs.
  const ack = await postSigned(svc.url, slashCommand({ text: 'volume rm hostile-doors-nothing', user: 'U0ADMIN', responseUrl: `${slack.url}/respond/real` }), SECRET);
  assert.equal(ack.status, 200);
  const token = ack.body.blocks?.[1]?.elements?.[0]?.value;
  assert.match(String(token), /^[0-9a-f]{24}$/, JSON.stringify(ack.body));
  const click = await postRawSigned(interactiveBody(blockActionPayload({ actionId: 'dockops_confirm', value: token, user: 'U0ADMIN', responseUrl: `${slack.url}/respond/real` })), 'application/x-www-form-urlencoded');
  assert.equal(click.status, 200);
  const queued = await slack.next('/respond/real');
  assert.match(queued.body.text, /job local\.\S+/, JSON.stringify(queued.body));
  assert.equal(await total(), before + 1);
  healthy();
});

test('Slack: a signed body over the cap is a JSON 413 with a message, not an HTML page with a stack', async () => {
  const res = await postRawSigned(interactiveBody(blockActionPayload({ actionId: 'dockops_cancel', value: 'v'.repeat(200_000), responseUrl: RESPOND() })), 'application/x-www-form-urlencoded');
  assert.equal(res.status, 413, res.text.slice(0, 300));
  assert.match(res.type, /application\/json/);
  assert.equal(clearMessageProblem(res.json?.message), undefined);
  assert.match(res.json?.message ?? '', /over \d+ bytes/);
  healthy();
});

test('Slack Retry on a build by someone without the role: a refusal in Slack, no crash, no job', async () => {
  const push = JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40), before: '0'.repeat(40), deleted: false, repository: { full_name: 'acme/app', clone_url: 'https://github.com/acme/app.git', html_url: 'https://github.com/acme/app', name: 'app' }, commits: [] });
  const gh = await fetch(`${svc.url}/webhooks/github`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomBytes(8).toString('hex'), 'x-hub-signature-256': `sha256=${createHmac('sha256', GH_SECRET).update(push).digest('hex')}` },
    body: push,
  });
  const { jobs } = (await gh.json()) as { jobs: string[] };
  assert.equal(jobs?.length, 1, 'the push started one build');
  const before = await total();
  const res = await postRawSigned(interactiveBody(blockActionPayload({ actionId: 'dockops_retry', value: jobs[0], user: 'U0VIEWER', responseUrl: `${slack.url}/respond/retry` })), 'application/x-www-form-urlencoded');
  assert.equal(res.status, 200);
  const answer = await slack.next('/respond/retry');
  assert.equal(answer.body.response_type, 'ephemeral');
  assert.equal(clearMessageProblem(answer.body.text), undefined);
  assert.match(answer.body.text, /operator|admin|not allowed|may not/i);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await total(), before, 'a refused retry enqueued a build');
  healthy();
});

/** Frames Slack never sends, and envelopes bent out of shape. */
const TYPES = ['events_api', 'slash_commands', 'interactive', 'hello', 'ws_message', 'slack_event', 'error', 'close', 'connected', 'connecting', 'authenticated', 'disconnected', 'reconnecting', 'outgoing_message', 'unknown_type', '', 'constructor', '__proto__'];
const frames: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('null', '[]', '[null]', '1', '"x"', 'true', '{}', '{', '', 'undefined', '{"type":null}', '{"type":"events_api"}', '{"type":"events_api","envelope_id":"e1"}', '{"type":"events_api","envelope_id":"e2","payload":{}}', '{"type":"events_api","envelope_id":"e3","payload":{"event":null}}', '{"type":"events_api","envelope_id":"e4","payload":null}', '{"type":"interactive","envelope_id":"e5"}', '{"type":"interactive","envelope_id":"e6","payload":null}', '{"type":"slash_commands","envelope_id":"e7","payload":[]}', '{"type":"slash_commands","payload":{"command":"/docker","text":"ps"}}', '{"type":"ws_message","envelope_id":"e8","payload":{}}', '{"type":{"toString":1}}', '{"type":{"valueOf":{}},"envelope_id":{"toString":null}}'),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.record({ type: fc.oneof(fc.constantFrom(...TYPES), fc.jsonValue({ maxDepth: 1 })), envelope_id: fc.oneof(fc.uuid(), fc.constant(''), fc.jsonValue({ maxDepth: 1 })), payload: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.record({ event: fc.jsonValue({ maxDepth: 2 }) }), mutatedClick), accepts_response_payload: fc.jsonValue({ maxDepth: 0 }) }, { requiredKeys: [] }).map((f) => JSON.stringify(f)),
);

test('Socket Mode: junk frames never crash the process; a valid envelope after each is still acked', async () => {
  const before = await total();
  let n = 0;
  await checkProperty(
    fc.asyncProperty(frames, async (frame) => {
      slack.sendRaw(frame);
      // Frames are read in order: the probe's ack says the client lived through the junk.
      const probe = `probe-${n++}-${randomBytes(3).toString('hex')}`;
      slack.sendEnvelope(slashEnvelope(probe, { text: 'ps --help', user: 'U0ADMIN', responseUrl: `${slack.url}/respond/probe` }));
      const ack = await slack.ackOf(probe, 10_000).catch(() => undefined);
      assert.ok(ack, `no ack after ${frame.slice(0, 300)}; the service ${svc.proc.exitCode === null ? 'is up' : 'exited'}:\n${svc.stderr().slice(-1500)}`);
      assert.match(ack.payload?.text ?? '', /Usage:\s+docker ps/);
    }),
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await total(), before, 'a junk frame enqueued a job');
  // A real command over the socket still runs.
  slack.sendEnvelope(slashEnvelope('env-real', { text: 'ps -a', user: 'U0ADMIN', responseUrl: `${slack.url}/respond/socket-real` }));
  const ack = await slack.ackOf('env-real');
  assert.equal(ack.payload.response_type, 'in_channel', JSON.stringify(ack.payload));
  assert.equal(await total(), before + 1);
  healthy();
});

/** Names a person (or an attacker) might give an upload. */
const names = fc.oneof(
  fc.constantFrom('meta.json', 'META.JSON', 'Meta.Json', '../meta.json', 'x/../../meta.json', '../../etc/passwd', '..', '.', '', '.partial-x', '.hidden', 'a/b', 'a\\b', '/abs', 'ok.tar', 'image.tar.gz', 'a'.repeat(128), 'a'.repeat(129), '%00', 'x\u0000y', 'x y', '\u202etxt.exe', '-rf', 'meta.json.tar'),
  fc.string({ maxLength: 20 }),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,20}$/),
);

/** A query string for ?name=: once, twice, or not at all. */
const query = fc.oneof(
  { weight: 4, arbitrary: names.map((n) => `?name=${encodeURIComponent(n)}`) },
  { weight: 1, arbitrary: fc.tuple(names, names).map(([a, b]) => `?name=${encodeURIComponent(a)}&name=${encodeURIComponent(b)}`) },
  { weight: 1, arbitrary: fc.constantFrom('', '?name', '?name=', '?name[x]=a', '?name=a&follow=1', '?follow=1&name=ok.bin') },
);

const upload = fc.record({
  query,
  size: fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.constantFrom(ARTIFACT_MAX, ARTIFACT_MAX + 1, 3 * ARTIFACT_MAX)),
  how: fc.constantFrom('whole', 'whole', 'aborted', 'chunked'),
  abortAt: fc.double({ min: 0, max: 1, noNaN: true }),
});

/** Artifact directories that hold a description (complete artifacts). */
function completeArtifacts(): Set<string> {
  if (!existsSync(artifactDir)) return new Set();
  return new Set(readdirSync(artifactDir).filter((d) => existsSync(path.join(artifactDir, d, 'meta.json'))));
}

test('artifact uploads: odd names, broken-off and oversized bodies get clear 4xx JSON; nothing half-written looks complete', async () => {
  // One artifact before the fuzz: nothing an upload does may change its description or bytes.
  const keep = await api(svc, 'POST', '/api/artifacts?name=keep.bin', 'kept bytes', { 'content-type': 'application/octet-stream' });
  assert.equal(keep.status, 201, JSON.stringify(keep.body));
  const tally = { stored: 0, refused: 0, aborted: 0 };
  await checkProperty(
    fc.asyncProperty(upload, async ({ query: q, size, how, abortAt }) => {
      const body = randomBytes(size);
      const beforeSet = completeArtifacts();
      const url = `${svc.url}/api/artifacts${q}`;
      const headers = { authorization: `Bearer ${svc.token}`, 'content-type': 'application/octet-stream' };
      const what = `${how} ${size} bytes to ${q}`;
      if (how === 'aborted' && size > 0) {
        tally.aborted++;
        const res = await rawRequest(url, { headers, body, abortAfter: Math.min(size - 1, Math.floor(size * abortAt)) });
        assert.ok(res.aborted || res.status >= 400, `${what}: answered ${!res.aborted && res.status}`);
        // Whatever the server made of it is gone, or was never complete.
        const deadline = Date.now() + 5000;
        let extra: string[] = [];
        do {
          extra = [...completeArtifacts()].filter((d) => !beforeSet.has(d));
          if (!extra.length) break;
          await new Promise((r) => setTimeout(r, 50));
        } while (Date.now() < deadline);
        assert.deepEqual(extra, [], `${what}: a broken-off upload left a complete artifact`);
        return;
      }
      const res = await rawRequest(url, { headers, body, chunked: how === 'chunked' });
      if (res.aborted) {
        // Only a body over the cap may be cut off (the server stops reading it once it has refused it).
        assert.ok(size > ARTIFACT_MAX, `${what}: connection broken`);
        tally.refused++;
        return;
      }
      const follow = /follow=1/.test(q);
      const lines = follow ? res.text.trim().split('\n').map((l) => JSON.parse(l)) : [res.json];
      const last = lines[lines.length - 1] as { id?: string; name?: string; size?: number; sha256?: string; message?: string; state?: string };
      if (res.status === 201 && last?.state !== 'failed') {
        tally.stored++;
        assert.ok(size <= ARTIFACT_MAX, `${what}: stored past the cap`);
        assert.equal(last.size, size);
        assert.equal(last.sha256, createHash('sha256').update(body).digest('hex'));
        assert.notEqual(last.name?.toLowerCase(), 'meta.json', `${what}: stored under the reserved name`);
        const got = await fetch(`${svc.url}/api/artifacts/${last.id}`, { headers: { authorization: `Bearer ${svc.token}` } });
        assert.equal(got.status, 200);
        assert.ok(Buffer.from(await got.arrayBuffer()).equals(body), `${what}: the download differs from the upload`);
        return;
      }
      tally.refused++;
      if (res.status === 201) {
        // A follow upload starts with 201 and ends with a line that says it failed.
        assert.equal(last.state, 'failed');
        assert.ok(size > ARTIFACT_MAX, `${what}: failed under the cap: ${res.text.slice(0, 300)}`);
      } else {
        assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
        assert.ok(res.json, `${what}: not JSON: ${res.text.slice(0, 300)}`);
      }
      assert.equal(clearMessageProblem(last?.message), undefined, what);
      // Past the cap, the size is what is refused (unless the name was refused first).
      if (size > ARTIFACT_MAX && res.status !== 400) assert.match(last?.message ?? '', /over \d+ bytes/, what);
    }),
    { numRuns: Math.max(20, Math.floor(E2E_RUNS / 2)) },
  );
  assert.ok(tally.stored > 0 && tally.refused > 0 && tally.aborted > 0, JSON.stringify(tally));
  const kept = await api(svc, 'GET', `/api/artifacts/${keep.body.id}`);
  assert.equal(kept.body.text, 'kept bytes');
  const link = await api(svc, 'POST', `/api/artifacts/${keep.body.id}/link`, {});
  assert.equal(link.body.name, 'keep.bin');
  assert.equal(link.body.size, 10);
  // No directory is left without a description once the uploads are over (they were removed).
  const partial = readdirSync(artifactDir).filter((d) => /^[0-9a-f]{24}$/.test(d) && !existsSync(path.join(artifactDir, d, 'meta.json')));
  assert.deepEqual(partial, []);
  healthy();
});

test('artifact uploads: "meta.json" is a reserved name, refused clearly', async () => {
  for (const name of ['meta.json', 'META.json', 'dir/meta.json']) {
    const res = await api(svc, 'POST', `/api/artifacts?name=${encodeURIComponent(name)}`, 'x', { 'content-type': 'application/octet-stream' });
    assert.equal(res.status, 400, name);
    assert.match(res.body.message, /reserved/);
  }
  const twice = await api(svc, 'POST', '/api/artifacts?name=a.bin&name=b.bin', 'x', { 'content-type': 'application/octet-stream' });
  assert.equal(twice.status, 400);
  assert.match(twice.body.message, /once/);
  healthy();
});
