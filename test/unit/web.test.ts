import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Request } from 'express';
import { ArtifactLinks } from '../../src/artifacts/links.js';
import { WebAuth, safeNext } from '../../src/ops/session.js';
import { escapeHtml, scriptJson } from '../../src/ops/html.js';
import { describeOrigin, renderJobPage } from '../../src/ops/job-page.js';
import { progressLines } from '../../src/render/slack.js';

const KEY = Buffer.alloc(32, 7);

test('job page links: signed per job, expire, and neither kind of link opens the other', () => {
  let now = 1_700_000_000_000;
  const links = new ArtifactLinks(KEY, 'https://d.example/', 3600_000, () => now);
  const page = new URL(links.signJobPage('local.abc', 60_000).url);
  assert.equal(page.origin + page.pathname, 'https://d.example/jobs/local.abc');
  const [e, s] = [page.searchParams.get('expires'), page.searchParams.get('sig')];
  assert.deepEqual(links.verifyJobPage('local.abc', e, s), { ok: true });
  assert.equal(links.verifyJobPage('local.other', e, s).ok, false);
  // An artifact link's signature is not a job page signature, and the other way round.
  const art = new URL(links.sign('0123456789abcdef01234567').url);
  assert.equal(links.verifyJobPage('0123456789abcdef01234567', art.searchParams.get('expires'), art.searchParams.get('sig')).ok, false);
  assert.equal(links.verify('local.abc', e, s).ok, false);
  now += 61_000;
  const expired = links.verifyJobPage('local.abc', e, s);
  assert.equal(expired.ok, false);
  assert.match(!expired.ok ? expired.message : '', /^this job page link expired at .*: log in with an API token at \/jobs\/local\.abc/);
});

const req = (headers: Record<string, string>) => ({ get: (h: string) => headers[h.toLowerCase()] }) as unknown as Request;

test('web sessions: a cookie for a token name, checked against the token it was made with', () => {
  let now = 1_700_000_000_000;
  const links = new ArtifactLinks(KEY, 'http://x', 1000, () => now);
  const auth = new WebAuth(new Map([['tok-aaaaaaaaaaaaaaaa', 'ci']]), links, true, () => now);
  const value = auth.session('ci');
  assert.equal(auth.who(req({ cookie: `other=1; dockops_session=${value}` })), 'ci');
  assert.equal(auth.who(req({ cookie: `dockops_session=${value.replace(/.$/, (c) => (c === '0' ? '1' : '0'))}` })), undefined);
  assert.equal(auth.who(req({ authorization: 'Bearer tok-aaaaaaaaaaaaaaaa' })), 'ci');
  assert.equal(auth.who(req({ authorization: `Basic ${Buffer.from('anyone:tok-aaaaaaaaaaaaaaaa').toString('base64')}` })), 'ci');
  assert.equal(auth.who(req({ authorization: `Basic ${Buffer.from('ci:wrong').toString('base64')}` })), undefined);
  assert.match(auth.cookieHeader(value, 60), /; HttpOnly; SameSite=Strict; Max-Age=60; Secure$/);
  // The same name with a new token: the old session is void.
  const rotated = new WebAuth(new Map([['tok-bbbbbbbbbbbbbbbb', 'ci']]), links, true, () => now);
  assert.equal(rotated.who(req({ cookie: `dockops_session=${value}` })), undefined);
  now += 13 * 3600_000;
  assert.equal(auth.who(req({ cookie: `dockops_session=${value}` })), undefined, 'expired after 12 h');
});

test('after login, only a path on this site: no other host, no scheme', () => {
  assert.equal(safeNext('/jobs/local.1'), '/jobs/local.1');
  for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', '', undefined, ['/x']]) assert.equal(safeNext(bad), '/admin/queues');
});

test('escaping: HTML text and attributes, JSON inside a script element', () => {
  assert.equal(escapeHtml(`<script>alert("x")</script>&'`), '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
  assert.equal(scriptJson({ t: '</script><script>alert(1)</script>' }), '{"t":"\\u003c/script>\\u003cscript>alert(1)\\u003c/script>"}');
  assert.deepEqual(JSON.parse(scriptJson({ t: '</script>\u2028' })), { t: '</script>\u2028' });
});

test('a job\'s origin in words never shows a token or Slack\'s response_url', () => {
  assert.equal(describeOrigin({ door: 'api', token: 'ci', ip: '127.0.0.1' }), 'API, token "ci" from 127.0.0.1');
  assert.equal(describeOrigin({ door: 'slack', team: 'T1', channel: 'C1', user: 'U1', responseUrl: 'https://hooks.slack.com/secret' }), 'Slack, user U1 in channel C1 (team T1)');
  assert.equal(describeOrigin({ door: 'github', repo: 'o/r', sha: 'a'.repeat(40), delivery: 'd-1' }), `GitHub, o/r at ${'a'.repeat(12)} (delivery d-1)`);
  assert.equal(describeOrigin({ door: 'schedule', name: 'nightly' }), 'schedule "nightly"');
});

test('the job page as the server draws it: progress as Slack draws it, hostile text escaped everywhere', () => {
  const html = renderJobPage(
    {
      id: 'local.1',
      command: `run busybox echo "<b>x</b>"`,
      host: 'local',
      kind: 'image.pull',
      origin: 'API, token "<ci>"',
      state: 'active',
      done: false,
      progress: progressLines({ layers: { abc123: { status: 'Downloading', current: 1_500_000, total: 3_000_000 } }, step: 2, of: 5 }),
      exitCode: null,
      error: null,
      stdout: '',
      stderr: '',
      truncated: false,
      createdAt: '2026-01-01T00:00:00.000Z',
      startedAt: null,
      finishedAt: null,
      files: [{ name: '"><img src=x>.tar', size: 2048, sha256: 'a'.repeat(64), href: '/api/artifacts/x?expires=1&sig=2', expiresAt: '2026-01-02T00:00:00.000Z' }],
    },
    [
      { s: 'stdout', t: '<script>alert(1)</script>\n' },
      { s: 'stderr', t: '\u001b[31mred\u001b[0m & </pre>\n' },
    ],
    2,
    'NONCE',
  );
  assert.match(html, /<pre id="progress">step 2 of 5\nabc123: Downloading 1\.5MB\/3\.0MB<\/pre>/);
  assert.match(html, /<span class="stdout">&lt;script&gt;alert\(1\)&lt;\/script&gt;\n<\/span><span class="stderr">red &amp; &lt;\/pre&gt;\n<\/span>/);
  assert.match(html, /<code id="command">run busybox echo &quot;&lt;b&gt;x&lt;\/b&gt;&quot;<\/code>/);
  assert.match(html, /<dd id="origin">API, token &quot;&lt;ci&gt;&quot;<\/dd>/);
  assert.match(html, /<a href="\/api\/artifacts\/x\?expires=1&amp;sig=2" download>&quot;&gt;&lt;img src=x&gt;\.tar<\/a>/);
  assert.match(html, /<script nonce="NONCE">/);
  assert.match(html, /<script type="application\/json" id="data">\{"id":"local\.1","next":2,"done":false\}<\/script>/);
  assert.equal((html.match(/<script/g) ?? []).length, 2, 'only the page\'s own scripts');
});
