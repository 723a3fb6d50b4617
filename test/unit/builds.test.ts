import { test } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { BuildRepo, previewRef, tagsFor } from '../../src/builds/rules.js';
import { normalRef, ownConfig, ownHostConfig } from '../../src/builds/redeploy.js';
import { buildMessage, logTail } from '../../src/render/slack-build.js';
import { parseCancelMessage } from '../../src/jobs/queue.js';
import { parseCommand } from '../../src/commands/index.js';
import { requiredRole } from '../../src/policy/roles.js';
import type { BuildView } from '../../src/builds/view.js';
import { DOCKER_HUB } from '../../src/docker/registry-auth.js';

const repo = BuildRepo.parse({
  repository: 'acme/web',
  image: 'localhost:5000/web',
  rules: [
    { type: 'branch', name: 'main', tag: 'latest', redeploy: true },
    { type: 'branch', name: '/^release-(\\d+)$/', tag: 'rel-{\\1}-{short_sha}' },
    { type: 'tag', name: '/^v.*$/', semver: true },
    { type: 'branch', name: 'main', tag: 'main-{sha}', paths: ['docs/**'] },
  ],
});

test('preview: a bare ref is tried as a branch and as a tag; path filters are not applied; no commit shows <sha>', () => {
  const main = previewRef([repo], 'ACME/web', 'main');
  assert.deepEqual(main.map((p) => [p.ruleIndex, p.tags]), [[0, ['localhost:5000/web:latest']], [3, ['localhost:5000/web:main-<sha>']]]);
  assert.equal(main[0].rule.redeploy, true);
  assert.deepEqual(previewRef([repo], 'acme/web', 'release-7')[0].tags, ['localhost:5000/web:rel-7-<short_sha>']);
  assert.deepEqual(previewRef([repo], 'acme/web', 'release-7', 'b'.repeat(40))[0].tags, ['localhost:5000/web:rel-7-bbbbbbb']);
  assert.deepEqual(previewRef([repo], 'acme/web', 'v1.2.3')[0].tags.slice(0, 2), ['localhost:5000/web:v1.2.3', 'localhost:5000/web:1.2.3']);
  assert.deepEqual(previewRef([repo], 'acme/web', 'refs/tags/main'), [], 'refs/tags/main is a tag, and no tag rule matches it');
  assert.deepEqual(tagsFor(repo.rules[1], 'release-7', ['release-7', '7'], 'c'.repeat(40)), ['rel-7-ccccccc'], 'with a commit, as before');
});

test('builds verbs parse as docker verbs do, and viewers may run them', () => {
  const ls = parseCommand('builds ls --repo acme/web -n 5 -q');
  assert.equal(ls.type, 'spec');
  assert.deepEqual(ls.type === 'spec' && ls.spec, { kind: 'builds.ls', repo: 'acme/web', limit: 5, format: undefined, quiet: true, noTrunc: false });
  const preview = parseCommand('builds preview acme/web main');
  assert.deepEqual(preview.type === 'spec' && preview.spec, { kind: 'builds.preview', repository: 'acme/web', ref: 'main', sha: undefined, format: undefined });
  const logs = parseCommand('builds logs --tail 30 local.gh-1');
  assert.deepEqual(logs.type === 'spec' && logs.spec, { kind: 'builds.logs', id: 'local.gh-1', tail: 30 });
  assert.throws(() => parseCommand('builds preview acme/web'), /requires exactly 2 arguments/);
  assert.throws(() => parseCommand('builds preview acme/web main --sha abc'), /full 40-character commit/);
  assert.throws(() => parseCommand('builds frob'), /'builds frob' is not a docker command/);
  for (const k of ['builds.ls', 'builds.preview', 'builds.logs']) assert.equal(requiredRole(k), 'viewer');
  assert.equal(requiredRole('autobuild'), 'operator', 'Retry and Cancel of a build');
});

test('cancel messages: a bare job ID (by request) or one with a reason', () => {
  assert.deepEqual(parseCancelMessage('local.abc'), { id: 'local.abc' });
  assert.deepEqual(parseCancelMessage('{"id":"local.abc","reason":"superseded by 123"}'), { id: 'local.abc', reason: 'superseded by 123' });
});

test('redeploy: label refs read as docker reads them; a container keeps its own options, not its old image defaults', () => {
  assert.equal(normalRef('localhost:5000/app'), normalRef('localhost:5000/app:latest'));
  assert.notEqual(normalRef('localhost:5000/app'), normalRef('localhost:5000/app:v2'));
  assert.equal(normalRef('busybox'), `${DOCKER_HUB}/library/busybox:latest`);
  const id = 'a1b2c3d4e5f6'.padEnd(64, '0');
  const container = {
    Id: id,
    Config: {
      Hostname: id.slice(0, 12),
      Env: ['PATH=/usr/bin', 'FOO=bar'],
      Cmd: ['sleep', '3600'],
      Entrypoint: null,
      WorkingDir: '/srv',
      Labels: { 'dockops.redeploy': 'localhost:5000/app', 'org.opencontainers.image.revision': 'old', mine: 'yes' },
      ExposedPorts: { '80/tcp': {}, '9000/tcp': {} },
      Tty: false,
    },
    HostConfig: { Binds: ['named:/data'], Mounts: null, RestartPolicy: { Name: 'always' } },
    Mounts: [
      { Type: 'volume', Name: 'named', Destination: '/data', RW: true },
      { Type: 'volume', Name: 'f'.repeat(64), Destination: '/cache', RW: true },
    ],
  } as unknown as Docker.ContainerInspectInfo;
  const image = { Env: ['PATH=/usr/bin'], Cmd: ['sleep', '3600'], WorkingDir: '', Labels: { 'org.opencontainers.image.revision': 'old' }, ExposedPorts: { '80/tcp': {} } } as unknown as Docker.ImageInspectInfo['Config'];
  const cfg = ownConfig(container, image);
  assert.equal(cfg.Hostname, undefined, 'the hostname docker gave is not kept');
  assert.deepEqual(cfg.Env, ['FOO=bar']);
  assert.equal(cfg.Cmd, undefined, "the image's CMD: the new image's applies");
  assert.equal(cfg.WorkingDir, '/srv');
  assert.deepEqual(cfg.Labels, { 'dockops.redeploy': 'localhost:5000/app', mine: 'yes' });
  assert.deepEqual(cfg.ExposedPorts, { '9000/tcp': {} });
  assert.deepEqual(ownHostConfig(container).Binds, ['named:/data', `${'f'.repeat(64)}:/cache`], 'anonymous volumes go with the service');
});

test('build message: the failed state shows the last 30 lines and Retry; running states show Cancel', () => {
  const log = Array.from({ length: 45 }, (_, i) => `\u001b[31mline ${i + 1}\u001b[0m`).join('\n') + '\n';
  assert.equal(logTail(log, 30).split('\n').length, 30);
  assert.ok(logTail(log, 30).startsWith('line 16\n'));
  const v: BuildView = { id: 'local.x', host: 'local', repository: 'acme/web', sourceref: 'main', sha: 'd'.repeat(40), tags: ['localhost:5000/web:latest'], state: 'failed', reason: 'exit 2', createdAt: 0, startedAt: 1000, finishedAt: 4500 };
  const cancel = { type: 'actions', elements: [{ action_id: 'dockops_cancel' }] };
  const retry = { type: 'actions', elements: [{ action_id: 'dockops_retry' }] };
  const failed = buildMessage(v, { logUrl: 'https://d/api/jobs/local.x/logs', log, cancel, retry });
  assert.match(JSON.stringify(failed.blocks[0]), /:x: failed: exit 2 · 3\.5 s/);
  assert.match(JSON.stringify(failed.blocks[1]), /line 45/);
  assert.equal(failed.blocks.at(-1), retry);
  const building = buildMessage({ ...v, state: 'building', step: { step: 2, of: 7 }, finishedAt: undefined }, { logUrl: 'u', cancel, retry });
  assert.match(JSON.stringify(building.blocks[0]), /building: step 2 of 7/);
  assert.equal(building.blocks.at(-1), cancel);
  assert.equal(buildMessage({ ...v, state: 'pushed', digest: 'sha256:abc' }, { logUrl: 'u', cancel, retry }).blocks.some((b) => b.type === 'actions'), false);
});
