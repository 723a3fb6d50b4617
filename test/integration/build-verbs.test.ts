import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { harness } from '../support/harness.js';
import { REGISTRY, docker, dockerCli, uniqueName } from '../support/env.js';

/**
 * push, build, search and system prune on the real engine. Builds come from a local git repository
 * (file://) FROM busybox:latest; pushes go to the local registry on 127.0.0.1:5000 only; search
 * is checked only for the engine's errors (Docker Hub is unreachable); system prune runs only
 * with this run's unique label filter. Every image made here is removed at the end.
 */
let h: Awaited<ReturnType<typeof harness>>;
let repo: string;
let sha: string;
const label = `dockops.test=${randomUUID()}`;
const made: string[] = [];

function git(args: string[]) {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' }).trim();
}

before(async () => {
  h = await harness();
  repo = mkdtempSync(join(tmpdir(), 'dockops-test-repo-'));
  git(['init', '-q', '-b', 'main']);
  writeFileSync(join(repo, 'Dockerfile'), `FROM busybox:latest\nLABEL ${label}\nCOPY . /ctx\nRUN echo ${randomUUID()} > /id\nRUN ls -A /ctx\n`);
  writeFileSync(join(repo, '.dockerignore'), 'secret.txt\n*.log\n');
  writeFileSync(join(repo, 'secret.txt'), 'do not send\n');
  writeFileSync(join(repo, 'kept.txt'), 'send me\n');
  writeFileSync(join(repo, 'x.log'), 'no\n');
  mkdirSync(join(repo, 'sub'));
  writeFileSync(join(repo, 'sub', 'Dockerfile'), `FROM busybox:latest\nLABEL ${label}\nRUN echo sub\nRUN false\n`);
  git(['add', '-A']);
  git(['commit', '-qm', 'init']);
  sha = git(['rev-parse', 'HEAD']);
});

after(async () => {
  const d = docker();
  for (const ref of [...made].reverse()) await d.getImage(ref).remove({ force: true }).catch(() => undefined);
  await d.pruneImages({ filters: JSON.stringify({ label: [label], dangling: ['true'] }) }).catch(() => undefined);
  rmSync(repo, { recursive: true, force: true });
  await h.close();
});

const tmpLeft = () => readdirSync(tmpdir()).filter((n) => n.startsWith('dockops-build-'));

test('build from a file:// git URL: docker output, .dockerignore, tags, step progress, temp dir removed', async () => {
  const before = new Set(tmpLeft());
  const name = `${uniqueName('build')}:1`;
  made.push(name);
  const r = await h.run(`build -t ${name} --label extra=yes file://${repo}#main`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^Sending build context to Docker daemon {2}\d+(\.\d+)?k?B\n/);
  assert.match(out, /\nStep 1\/6 : FROM busybox:latest\n ---> [0-9a-f]{12}\n/);
  assert.match(out, /\nSuccessfully built [0-9a-f]{12}\nSuccessfully tagged .+\n$/);
  assert.ok(out.includes(`Successfully tagged ${name}\n`), out);
  // .dockerignore honoured (the Dockerfile and .dockerignore are always sent; .git never).
  assert.ok(out.includes('kept.txt'), out);
  assert.ok(!out.includes('secret.txt') && !out.includes('x.log') && !out.includes('.git\n'), out);
  const data = r.result.data as { image: string; tags: string[] };
  assert.match(data.image, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(data.tags, [name]);
  const img = await docker().getImage(name).inspect();
  assert.equal(img.Id, data.image);
  assert.equal(img.Config.Labels?.extra, 'yes');
  const progress = (await h.jobs.get(r.id))?.progress as { step?: number; of?: number; done?: boolean };
  assert.deepEqual([progress.step, progress.of, progress.done], [6, 6, true]);
  assert.deepEqual(tmpLeft().filter((n) => !before.has(n)), []);
});

test('build -q by commit and sub-directory: a failing RUN gives docker message and exit 1', async () => {
  const r = await h.run(`build file://${repo}#${sha}:sub`);
  assert.equal(r.result.exitCode, 1);
  assert.equal(r.stderr, "The command '/bin/sh -c false' returned a non-zero code: 1\n");
  const name = `${uniqueName('buildq')}:1`;
  made.push(name);
  const q = await h.run(`image build -q -t ${name} file://${repo}#${sha}`);
  assert.equal(q.result.exitCode, 0, q.stderr);
  assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal((await docker().getImage(name).inspect()).Id, q.stdout.trim());
  // A missing ref, a missing Dockerfile.
  const bad = await h.run(`build file://${repo}#no-such-branch`);
  assert.equal(bad.result.exitCode, 1);
  assert.match(bad.stderr, /^unable to prepare context: unable to 'git clone'/);
  const nf = await h.run(`build -f nope file://${repo}#main`);
  assert.deepEqual([nf.result.exitCode, nf.stderr], [1, 'Error response from daemon: Cannot locate specified Dockerfile: nope\n']);
});

test('push to the local registry: docker lines, digest in the data, same digest as docker push', async () => {
  const repoName = uniqueName('push');
  const ref = `${REGISTRY}/${repoName}:1`;
  made.push(ref);
  await docker().getImage('busybox:latest').tag({ repo: `${REGISTRY}/${repoName}`, tag: '1' });
  const r = await h.run(`push ${ref}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], `The push refers to repository [${REGISTRY}/${repoName}]`);
  assert.ok(lines.some((l) => /^[0-9a-f]{12}: Preparing$/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^[0-9a-f]{12}: (Pushed|Layer already exists|Mounted from .+)$/.test(l)), r.stdout);
  const last = /^1: digest: (sha256:[0-9a-f]{64}) size: (\d+)$/.exec(lines.at(-1) ?? '');
  assert.ok(last, r.stdout);
  const data = r.result.data as { digest: string; pushed: { tag: string; digest: string; size: number }[] };
  assert.equal(data.digest, last[1]);
  assert.deepEqual(data.pushed, [{ tag: '1', digest: last[1], size: Number(last[2]) }]);
  const progress = (await h.jobs.get(r.id))?.progress as { action?: string; layers?: Record<string, unknown>; done?: boolean };
  assert.deepEqual([progress.action, progress.done], ['push', true]);
  assert.ok(Object.keys(progress.layers ?? {}).length >= 1);
  const tags = (await (await fetch(`http://127.0.0.1:5000/v2/${repoName}/tags/list`)).json()) as { tags: string[] };
  assert.deepEqual(tags.tags, ['1']);
  const theirs = dockerCli(['push', ref]);
  assert.equal(theirs.status, 0, theirs.stderr);
  assert.ok(theirs.stdout.includes(`1: digest: ${data.digest} size:`), theirs.stdout);
  // -q prints the reference; a missing tag and a missing image are docker's errors.
  const q = await h.run(`image push -q ${ref}`);
  assert.deepEqual([q.result.exitCode, q.stdout], [0, `${ref}\n`]);
  const nt = await h.run(`push ${REGISTRY}/${repoName}:nope`);
  assert.deepEqual([nt.result.exitCode, nt.stderr], [1, dockerCli(['push', `${REGISTRY}/${repoName}:nope`]).stderr]);
  const ni = await h.run(`push ${REGISTRY}/${uniqueName('none')}:1`);
  assert.equal(ni.result.exitCode, 1);
  assert.match(ni.stderr, /^An image does not exist locally with the tag: /);
});

test('search: the engine checks the filters and limit; errors as docker gives them', async () => {
  for (const args of [['search', '-f', 'foo=bar', 'x'], ['search', '--limit', '101', 'x'], ['search', '-f', 'is-official=maybe', 'x'], ['search', '-f', 'stars=abc', 'x']]) {
    const ours = await h.run(args.join(' '));
    const theirs = dockerCli(args);
    assert.deepEqual([ours.result.exitCode, ours.stderr], [theirs.status, theirs.stderr], args.join(' '));
  }
  // Docker Hub cannot be reached from here: whatever the engine says, exit 1 and its words.
  const r = await h.run('search busybox');
  assert.equal(r.result.exitCode, 1);
  assert.match(r.stderr, /^Error response from daemon: /);
});

test('system prune -f with our label removes only our objects, in docker words', async () => {
  const d = docker();
  const c = await d.createContainer({ Image: 'busybox:latest', Cmd: ['true'], Labels: { [label.split('=')[0]]: label.split('=')[1] } });
  const netName = uniqueName('net');
  await d.createNetwork({ Name: netName, Labels: { [label.split('=')[0]]: label.split('=')[1] } });
  const vol = (await d.createVolume({ Labels: { [label.split('=')[0]]: label.split('=')[1] } } as {})) as unknown as { name: string };
  const r = await h.run(`system prune -f --volumes --filter label=${label}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  // The failed build above left its (labelled) intermediate container too, as docker's does.
  assert.match(r.stdout, /^Deleted Containers:\n([0-9a-f]{64}\n)+\nDeleted Networks:\n/);
  assert.ok(r.stdout.includes(`${c.id}\n`) && r.stdout.includes(`\nDeleted Networks:\n${netName}\n\nDeleted Volumes:\n${vol.name}\n\n`), r.stdout);
  assert.match(r.stdout, /\nTotal reclaimed space: \d+(\.\d+)?k?B\n$/);
  await assert.rejects(d.getContainer(c.id).inspect());
  // Nothing left with our label: the same text as docker's.
  const again = await h.run(`system prune -f --filter label=${label}`);
  const theirs = dockerCli(['system', 'prune', '-f', '--filter', `label=${label}`]);
  assert.deepEqual([again.result.exitCode, again.stdout], [theirs.status, theirs.stdout]);
  const refused = await h.run('system prune').catch((e: Error) => e);
  assert.ok(refused instanceof Error && /add -f/.test(refused.message));
});
