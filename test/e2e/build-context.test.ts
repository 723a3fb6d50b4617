import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, BIN, cli, startService, type Service } from '../support/service.js';
import { dockerCli, dropPrefix, redis, uniqueName } from '../support/env.js';

let svc: Service;
let root: string;
let ctx: string;
const images: string[] = [];

/** A tag for an image this file builds (and removes). */
function tag(what: string): string {
  const t = uniqueName(what).toLowerCase();
  images.push(t);
  return t;
}

before(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'dockops-ctxupload-'));
  ctx = path.join(root, 'app');
  mkdirSync(path.join(ctx, 'sub'), { recursive: true });
  mkdirSync(path.join(ctx, 'docs'));
  mkdirSync(path.join(ctx, '.git'));
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    'FROM busybox:latest\nCOPY . /ctx\nRUN busybox find /ctx | busybox sort > /files.txt && ls -l /ctx > /links.txt\nCMD ["cat", "/files.txt"]\n',
  );
  writeFileSync(path.join(ctx, '.dockerignore'), '# not for the image\nsecret.txt\n**/*.log\ndocs\n!docs/README.md\n');
  writeFileSync(path.join(ctx, 'keep.txt'), 'kept\n');
  writeFileSync(path.join(ctx, 'secret.txt'), 'do not ship\n');
  writeFileSync(path.join(ctx, 'sub', 'inner.txt'), 'inner\n');
  writeFileSync(path.join(ctx, 'sub', 'debug.log'), 'noise\n');
  writeFileSync(path.join(ctx, 'docs', 'README.md'), 'readme\n');
  writeFileSync(path.join(ctx, 'docs', 'internal.md'), 'internal\n');
  writeFileSync(path.join(ctx, '.git', 'config'), '[core]\n');
  writeFileSync(path.join(root, 'outside.txt'), 'host file outside the context\n');
  symlinkSync('../outside.txt', path.join(ctx, 'escape'));
  svc = await startService({ DOCKOPS_ARTIFACT_DIR: path.join(root, 'artifacts') });
});

after(async () => {
  for (const i of images) dockerCli(['rmi', '-f', i]);
  await svc.stop();
  const r = redis();
  await dropPrefix(r, svc.prefix);
  r.disconnect();
  rmSync(root, { recursive: true, force: true });
});

/** `sh -c` with the CLI on the path as `dockops`: for pipes into its stdin, as a person types them. */
function shell(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('sh', ['-c', script], { env: { ...process.env, DOCKOPS: BIN, DOCKOPS_API_URL: svc.url, DOCKOPS_TOKEN: svc.token } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c));
    p.stderr.on('data', (c: Buffer) => (stderr += c));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('build -t NAME DIR: the CLI packs the directory (.dockerignore, no .git, links not followed), uploads it, the engine builds it', async () => {
  const t = tag('ctx');
  const r = await cli(svc, ['build', '-t', t, ctx]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Sending build context to Docker daemon {2}[\d.]+kB\n/);
  assert.match(r.stdout, /Step 1\/4 : FROM busybox:latest\n/);
  assert.match(r.stdout, new RegExp(`Successfully tagged ${t}:latest\n$`));
  const files = dockerCli(['run', '--rm', t]);
  assert.equal(files.status, 0, files.stderr);
  assert.deepEqual(files.stdout.trim().split('\n'), [
    '/ctx',
    '/ctx/.dockerignore',
    '/ctx/Dockerfile',
    '/ctx/docs',
    '/ctx/docs/README.md',
    '/ctx/escape',
    '/ctx/keep.txt',
    '/ctx/sub',
    '/ctx/sub/inner.txt',
  ]);
  // The link went in as a link: the host file it points at was never read.
  const links = dockerCli(['run', '--rm', t, 'cat', '/links.txt']).stdout;
  assert.match(links, /escape -> \.\.\/outside\.txt/);
  assert.equal(dockerCli(['run', '--rm', t, 'cat', '/ctx/keep.txt']).stdout, 'kept\n');
});

test('-f: relative to where you are, a Dockerfile outside the context is sent with it; errors as the docker CLI words them', async () => {
  const outside = path.join(root, 'other.Dockerfile');
  writeFileSync(outside, 'FROM busybox:latest\nLABEL from=outside\nCOPY keep.txt /keep.txt\n');
  const t = tag('outside-df');
  // The CLI runs in this process's directory: give -f relative to it, as a person would.
  const r = await cli(svc, ['build', '--file', path.relative(process.cwd(), outside), '-q', '-t', t, ctx]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(dockerCli(['image', 'inspect', '-f', '{{.Config.Labels.from}}', t]).stdout, 'outside\n');

  const missingDir = path.join(root, 'no-such-dir');
  const empty = path.join(root, 'empty');
  mkdirSync(empty);
  for (const args of [
    ['build', '-t', 'x', missingDir],
    ['build', '-t', 'x', empty],
    ['build', '-t', 'x', '-f', path.join(root, 'nope.Dockerfile'), ctx],
    ['build', '-t', 'x', path.join(ctx, 'keep.txt')],
  ]) {
    const ours = await cli(svc, args);
    const theirs = dockerCli(args);
    assert.deepEqual({ code: ours.code, stderr: ours.stderr }, { code: theirs.status, stderr: theirs.stderr }, args.join(' '));
  }
});

test('build -: a tar (gzip too) or a lone Dockerfile from stdin', async () => {
  const gz = tag('stdin-gz');
  const r = await shell(`tar -C "${ctx}" -cz . | "$DOCKOPS" docker build -t ${gz} -`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Successfully tagged ${gz}:latest\n$`));
  // A tar from stdin goes as it is, as with docker: its .dockerignore is the engine's business.
  assert.equal(dockerCli(['run', '--rm', gz, 'cat', '/ctx/keep.txt']).stdout, 'kept\n');

  const lone = tag('stdin-df');
  const d = await shell(`printf 'FROM busybox:latest\\nLABEL lone=yes\\n' | "$DOCKOPS" docker build -t ${lone} -`);
  assert.equal(d.code, 0, d.stderr);
  assert.equal(dockerCli(['image', 'inspect', '-f', '{{.Config.Labels.lone}}', lone]).stdout, 'yes\n');

  const both = await shell(`echo x | "$DOCKOPS" docker build -f - -`);
  assert.equal(both.code, 1);
  assert.equal(both.stderr, "invalid argument: can't use stdin for both build context and dockerfile\n");
});

test('API door: build from an uploaded artifact; a server path is refused', async () => {
  const tarball = path.join(root, 'ctx.tar.gz');
  assert.equal(spawnSync('tar', ['-C', ctx, '-czf', tarball, '.']).status, 0);
  const up = await fetch(`${svc.url}/api/artifacts?name=ctx.tar.gz`, {
    method: 'POST',
    headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(readFileSync(tarball)),
  });
  assert.equal(up.status, 201);
  const { id } = (await up.json()) as { id: string };
  const t = tag('api');
  const sub = await api(svc, 'POST', '/api/jobs', { args: ['build', '-t', t, '--label', 'via=api', `artifact:${id}`] });
  assert.equal(sub.status, 202, JSON.stringify(sub.body));
  let job: { state: string; exitCode: number; result: { data: { tags: string[] } } } | undefined;
  for (let i = 0; i < 600 && !(job && (job.state === 'completed' || job.state === 'failed')); i++) {
    await new Promise((r) => setTimeout(r, 100));
    job = (await api(svc, 'GET', `/api/jobs/${sub.body.id}`)).body;
  }
  assert.equal(job?.exitCode, 0, JSON.stringify(job));
  assert.deepEqual(job?.result.data.tags, [`${t}:latest`]);
  assert.equal(dockerCli(['image', 'inspect', '-f', '{{.Config.Labels.via}}', t]).stdout, 'api\n');

  const serverPath = await api(svc, 'POST', '/api/jobs', { command: 'build -t x /srv/app' });
  assert.equal(serverPath.status, 400);
  assert.match(serverPath.body.message, /not a git URL or an uploaded context.*a directory on the dockops server is not accepted/s);
  const missing = await cli(svc, ['build', '-t', 'x', 'artifact:0123456789abcdef01234567']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no artifact 0123456789abcdef01234567 \(upload it first, or it has expired\)/);
});
