import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildRepo, loadBuildRules, matchPush, pathGlob, ruleTimeoutMs, tagsFor, type PushEvent } from '../../src/builds/rules.js';
import { verifyGithubSignature } from '../../src/doors/github/webhook.js';
import { sign } from '@octokit/webhooks-methods';
import { ROOT } from '../support/service.js';

const repo = BuildRepo.parse({
  repository: 'acme/web',
  image: 'localhost:5000/web',
  rules: [
    { type: 'branch', name: 'main', tag: 'latest' },
    { type: 'branch', name: '/^release-(\\d+)$/', tag: 'rel-{\\1}-{short_sha}' },
    { type: 'tag', name: '/^v.*$/', semver: true },
    { type: 'branch', name: '/^docs-.*$/', paths: ['docs/**'], context: 'docs' },
  ],
});
const sha = 'a'.repeat(40);
const push = (ref: string, extra: Partial<PushEvent> = {}): PushEvent => ({ ref, after: sha, repository: { full_name: 'acme/web', clone_url: 'https://github.com/acme/web.git' }, commits: [], ...extra });

test('branch, regex and tag rules give the Docker Hub tags', () => {
  assert.deepEqual(matchPush([repo], push('refs/heads/main')).map((p) => p.tags), [['localhost:5000/web:latest']]);
  assert.deepEqual(matchPush([repo], push('refs/heads/release-42')).map((p) => p.tags), [['localhost:5000/web:rel-42-aaaaaaa']]);
  assert.deepEqual(matchPush([repo], push('refs/tags/v1.2.3'))[0].tags, ['localhost:5000/web:v1.2.3', 'localhost:5000/web:1.2.3', 'localhost:5000/web:1.2', 'localhost:5000/web:1', 'localhost:5000/web:latest']);
  assert.deepEqual(matchPush([repo], push('refs/tags/v2.0.0-rc.1'))[0].tags, ['localhost:5000/web:v2.0.0-rc.1', 'localhost:5000/web:2.0.0-rc.1']);
  assert.equal(matchPush([repo], push('refs/heads/other')).length, 0);
  assert.equal(matchPush([repo], push('refs/heads/main', { repository: { full_name: 'acme/api', clone_url: '' } })).length, 0);
  assert.equal(matchPush([repo], push('refs/heads/main', { deleted: true, after: '0'.repeat(40) })).length, 0, 'a deletion builds nothing');
  assert.equal(matchPush([repo], push('refs/heads/main'))[0].context, `https://github.com/acme/web.git#${sha}`);
});

test('path filters look at the files changed over every commit of the push', () => {
  assert.equal(matchPush([repo], push('refs/heads/docs-x', { commits: [{ modified: ['src/a.ts'] }] })).length, 0);
  const plans = matchPush([repo], push('refs/heads/docs-x', { commits: [{ modified: ['src/a.ts'] }, { added: ['docs/guide/intro.md'] }] }));
  assert.equal(plans.length, 1);
  assert.equal(plans[0].context, `https://github.com/acme/web.git#${sha}:docs`);
  assert.ok(pathGlob('docs/**', 'docs/a/b.md'));
  assert.ok(!pathGlob('docs/*', 'docs/a/b.md'));
  assert.deepEqual(tagsFor(repo.rules[0], 'main', ['main'], sha), ['latest']);
});

test('rule files: errors name the file and line; the example file is valid', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-rules-'));
  writeFileSync(path.join(dir, 'a.yml'), 'builds:\n  - repository: acme/web\n    image: x\n    rules:\n      - type: branch\n        name: main\n      - type: commit\n        name: x\n');
  assert.throws(() => loadBuildRules(dir), (e: unknown) => /a\.yml:7: builds\.0\.rules\.1\.type/.test((e as Error).message));
  const ok = mkdtempSync(path.join(os.tmpdir(), 'dockops-rules-'));
  copyFileSync(path.join(ROOT, 'jobs/builds.yml.example'), path.join(ok, 'builds.yml'));
  assert.equal(loadBuildRules(ok).length, 1);
});

test("a rule's timeout: a Go duration of at least 1s, read in ms; a bad one names its file and line", () => {
  const rule = (timeout?: string) => BuildRepo.parse({ repository: 'acme/web', image: 'x', rules: [{ type: 'branch', name: 'main', ...(timeout ? { timeout } : {}) }] }).rules[0]!;
  assert.equal(ruleTimeoutMs(rule('90s')), 90_000);
  assert.equal(ruleTimeoutMs(rule('1h30m')), 5_400_000);
  assert.equal(ruleTimeoutMs(rule('2.5m')), 150_000);
  assert.equal(ruleTimeoutMs(rule()), undefined, "none: the worker's DOCKOPS_BUILD_TIMEOUT_MS");
  for (const bad of ['30', '500ms', '-5m', 'soon']) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-rules-'));
    writeFileSync(path.join(dir, 'b.yml'), `builds:\n  - repository: acme/web\n    image: x\n    rules:\n      - type: branch\n        name: main\n        timeout: ${bad}\n`);
    assert.throws(() => loadBuildRules(dir), (e: unknown) => /b\.yml:7: builds\.0\.rules\.0\.timeout: a duration of at least 1s, such as 90s, 30m or 1h30m/.test((e as Error).message), bad);
  }
});

test("GitHub's signature (@octokit/webhooks-methods) verifies over the exact bytes, with rotation", async () => {
  const body = JSON.stringify({ zen: 'Keep it logically awesome.' });
  const sig = await sign('new-secret', body);
  assert.ok(verifyGithubSignature(Buffer.from(body), sig, ['old-secret', 'new-secret']));
  assert.ok(!verifyGithubSignature(Buffer.from(body), sig, ['old-secret']));
  assert.ok(!verifyGithubSignature(Buffer.from(`${body} `), sig, ['new-secret']));
  assert.ok(!verifyGithubSignature(Buffer.from(body), 'sha1=abc', ['new-secret']));
});
