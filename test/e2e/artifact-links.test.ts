import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, startService, type Service } from '../support/service.js';
import { postSigned, slashCommand, standInSlack } from '../support/slack.js';
import { dropPrefix, redis } from '../support/env.js';
import { ArtifactLinks, SECRET_FILE } from '../../src/artifacts/links.js';

const SECRET = 'slack-signing-secret-for-links-0123456789';
let svc: Service;
let slack: Awaited<ReturnType<typeof standInSlack>>;
let artifactDir: string;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The status of a request whose body is read and dropped (an unread body holds its socket). */
const statusOf = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
};

before(async () => {
  artifactDir = mkdtempSync(path.join(os.tmpdir(), 'dockops-links-'));
  slack = await standInSlack();
  svc = await startService({
    DOCKOPS_ARTIFACT_DIR: artifactDir,
    SLACK_SIGNING_SECRET: SECRET,
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
  rmSync(artifactDir, { recursive: true, force: true });
});

/** The service runs on a port picked at start: a link names DOCKOPS_PUBLIC_URL, so aim it at the real port. */
function local(link: string, s: Pick<Service, 'url'> = svc): string {
  const u = new URL(link);
  return `${s.url}${u.pathname}${u.search}`;
}

async function upload(s: Pick<Service, 'url' | 'token'>, body: Buffer, name = 'notes.txt') {
  const res = await fetch(`${s.url}/api/artifacts?name=${name}`, { method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(body) });
  assert.equal(res.status, 201);
  return (await res.json()) as { id: string; sha256: string };
}

async function waitForJob(id: string) {
  for (let i = 0; i < 300; i++) {
    const j = await api(svc, 'GET', `/api/jobs/${id}`);
    if (j.body.state === 'completed' || j.body.state === 'failed') return j.body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

test('POST /api/artifacts/:id/link: a link that downloads without a token; forged or expired links are refused with a reason', async () => {
  const body = Buffer.from('release notes\n'.repeat(1000));
  const a = await upload(svc, body);
  const link = await api(svc, 'POST', `/api/artifacts/${a.id}/link`, { ttl: '2h' });
  assert.equal(link.status, 200, JSON.stringify(link.body));
  assert.equal(link.body.name, 'notes.txt');
  assert.match(link.body.url, new RegExp(`/api/artifacts/${a.id}\\?expires=\\d+&sig=[0-9a-f]{64}$`));
  const got = await fetch(local(link.body.url));
  assert.equal(got.status, 200);
  assert.equal(got.headers.get('content-disposition'), 'attachment; filename="notes.txt"');
  assert.equal(sha(Buffer.from(await got.arrayBuffer())), sha(body));

  const forged = await fetch(local(link.body.url).replace(/sig=./, (m) => (m.endsWith('0') ? 'sig=1' : 'sig=0')));
  assert.equal(forged.status, 403);
  assert.match(((await forged.json()) as { message: string }).message, /signature does not match/);
  const later = await statusOf(local(link.body.url).replace(/expires=\d+/, (m) => `expires=${Number(m.slice(8)) + 3600}`));
  assert.equal(later, 403, 'moving the expiry voids the signature');
  // A link signed with the server's own key (kept in the artifact directory) whose time is up.
  const key = Buffer.from(readFileSync(path.join(artifactDir, SECRET_FILE), 'utf8').trim(), 'hex');
  const stale = new ArtifactLinks(key, svc.url, 60_000, () => Date.now() - 3_600_000).sign(a.id);
  const expired = await fetch(stale.url);
  assert.equal(expired.status, 410);
  const why = (await expired.json()) as { message: string };
  assert.match(why.message, new RegExp(`expired at .*ask for a fresh one \\(POST /api/artifacts/${a.id}/link`));

  assert.equal((await api(svc, 'POST', `/api/artifacts/${a.id}/link`, { ttl: '90d' })).status, 400);
  assert.equal((await api(svc, 'POST', `/api/artifacts/${a.id}/link`, { ttl: 'soon' })).status, 400);
  assert.equal((await api(svc, 'POST', '/api/artifacts/0123456789abcdef01234567/link', {})).status, 404);
  assert.equal(await statusOf(`${svc.url}/api/artifacts/${a.id}/link`, { method: 'POST' }), 401);
  assert.equal(await statusOf(`${svc.url}/api/artifacts/${a.id}`), 401, 'without a signature the token is still needed');
  const dflt = await api(svc, 'POST', `/api/artifacts/${a.id}/link`);
  assert.equal(dflt.status, 200);
  const hours = (Date.parse(dflt.body.expiresAt) - Date.now()) / 3_600_000;
  assert.ok(hours > 23 && hours <= 24, `the default TTL is DOCKOPS_ARTIFACT_LINK_TTL (24h), got ${hours}`);
});

test('a job that makes a file carries a signed link to it in its result (API) and in its Slack message', async () => {
  const sub = await api(svc, 'POST', '/api/jobs', { command: 'save -o image.tar busybox:latest' });
  assert.equal(sub.status, 202, JSON.stringify(sub.body));
  const job = await waitForJob(sub.body.id);
  assert.equal(job.exitCode, 0, JSON.stringify(job));
  const [art] = job.result.artifacts;
  assert.equal(art.name, 'image.tar');
  assert.ok(Date.parse(art.urlExpiresAt) > Date.now());
  const dl = await fetch(local(art.url));
  assert.equal(dl.status, 200);
  assert.equal(sha(Buffer.from(await dl.arrayBuffer())), art.sha256);

  const ack = await postSigned(svc.url, slashCommand({ text: 'save -o from-slack.tar busybox:latest', responseUrl: `${slack.url}/respond/links` }), SECRET);
  assert.equal(ack.status, 200);
  const post = await slack.next('/respond/links', 60_000);
  const blocks = post.body.blocks as Array<{ type: string; text?: { text: string } }>;
  const files = blocks.find((b) => b.text?.text.startsWith(':package:'));
  assert.ok(files, JSON.stringify(blocks));
  const m = /^:package: <([^|>]+)\|from-slack\.tar> \(([\d.]+MB)\)\n_links work without a token until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC_$/.exec(files.text?.text ?? '');
  assert.ok(m, files.text?.text);
  const fromSlack = await fetch(local(m[1].replace(/&amp;/g, '&')));
  assert.equal(fromSlack.status, 200, 'the link in the Slack message downloads the file, no token');
  assert.ok(Number(fromSlack.headers.get('content-length')) > 1_000_000);
  await fromSlack.arrayBuffer();
});

test('several API processes share the artifact directory: one link key, and the expiry sweep removes old files', async () => {
  const a = await upload(svc, Buffer.from('shared'), 'shared.txt');
  // A second process on the same directory, with a TTL of 2 seconds.
  const other = await startService({ DOCKOPS_ARTIFACT_DIR: artifactDir, DOCKOPS_ARTIFACT_TTL: '2s' });
  try {
    const link = await api(svc, 'POST', `/api/artifacts/${a.id}/link`, { ttl: 600 });
    const viaOther = await fetch(local(link.body.url, other));
    assert.equal(viaOther.status, 200, 'a link one process signed is good at the other');
    assert.equal(await viaOther.text(), 'shared');
    // The other process's sweep removes it once it is older than 2 s.
    let status = 200;
    for (let i = 0; i < 100 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = await statusOf(local(link.body.url));
    }
    assert.equal(status, 404);
    assert.ok(!existsSync(path.join(artifactDir, a.id)));
    assert.ok(existsSync(path.join(artifactDir, SECRET_FILE)), 'the key stays');
  } finally {
    await other.stop();
    const r = redis();
    await dropPrefix(r, other.prefix);
    r.disconnect();
  }
});
