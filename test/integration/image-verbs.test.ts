import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { harness } from '../support/harness.js';
import { DOCKER_CLI, DOCKER_HOST, docker, dockerCli, uniqueName } from '../support/env.js';
import { quoteWords } from '../../src/commands/tokenize.js';

/**
 * tag, image inspect, history, rmi and image prune on the real engine, compared with the docker
 * CLI (20.10) where the output is deterministic. Every image here is made by the test (from
 * busybox:latest, offline) under a unique name and removed at the end.
 */
let h: Awaited<ReturnType<typeof harness>>;
const label = `dockops.test=${randomUUID()}`;
const built = uniqueName('built');
const tagged = `${uniqueName('tag')}:v1`;
const made: string[] = [];

/** Builds FROM busybox with a layer and a label of its own; returns the image id. */
function build(tag: string): string {
  const out = execFileSync(DOCKER_CLI, ['build', '-q', '-t', tag, '-'], {
    env: { ...process.env, DOCKER_HOST },
    input: `FROM busybox:latest\nLABEL ${label}\nRUN echo ${randomUUID()} > /x\nRUN printf 'a\tb' > /tabbed\n`,
    encoding: 'utf8',
  });
  return out.trim();
}

before(async () => {
  h = await harness();
  made.push(build(built));
  made.push(built);
});

after(async () => {
  const d = docker();
  for (const ref of [...made].reverse()) await d.getImage(ref).remove({ force: true }).catch(() => undefined);
  // Whatever of ours is left dangling (labelled with this run's unique label only).
  await d.pruneImages({ filters: JSON.stringify({ label: [label], dangling: ['true'] }) }).catch(() => undefined);
  await h.close();
});

/** The same command through dockops and the docker CLI: same stdout, stderr and exit code. */
async function compare(words: string[]) {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const ours = await h.run(quoteWords(words));
    const theirs = dockerCli(words);
    const a = { stdout: ours.stdout, stderr: ours.stderr, code: ours.result.exitCode };
    const b = { stdout: theirs.stdout, stderr: theirs.stderr, code: theirs.status };
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    last = [a, b];
  }
  const [a, b] = last as [unknown, unknown];
  assert.deepEqual(a, b, `docker ${words.join(' ')}`);
}

test('tag makes a new name for the image; errors as the docker CLI words them', async () => {
  made.push(tagged);
  const r = await h.run(`tag ${built} ${tagged}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  assert.equal(r.stdout, '');
  const img = await docker().getImage(tagged).inspect();
  assert.ok(img.RepoTags.includes(tagged));
  // image tag is the same verb.
  const second = `${uniqueName('tag')}:v2`;
  made.push(second);
  assert.equal((await h.run(`image tag ${built} ${second}`)).result.exitCode, 0);
  await compare(['tag', 'dockops-no-such-image:1', `${uniqueName('tag')}:x`]);
});

test('image inspect: default output is the docker CLI JSON, byte for byte', async () => {
  await compare(['image', 'inspect', built]);
  await compare(['image', 'inspect', built, tagged]);
});

test('image inspect --format over the typed value and over the raw JSON', async () => {
  for (const f of [
    '{{.RootFS}}',
    '{{json .Config}}',
    '{{.Config}}',
    '{{.ContainerConfig.Cmd}}',
    '{{.GraphDriver.Name}} {{.Os}}/{{.Architecture}} {{.Size}}',
    '{{.ID}}',
    '{{.Id}}',
    '{{json .RootFS}}',
    '{{index .Config.Labels "dockops.test"}}',
    '{{.Config.Labels}}',
    '{{range .RepoTags}}{{.}} {{end}}',
    '{{json .}}',
  ]) {
    await compare(['image', 'inspect', '-f', f, built]);
  }
});

test('image inspect errors: missing image (exit 1, the others still printed), bad field, bad template (64)', async () => {
  await compare(['image', 'inspect', 'dockops-no-such-image']);
  await compare(['image', 'inspect', '-f', '{{.Size}}', 'dockops-no-such-image', built]);
  await compare(['image', 'inspect', '-f', '{{.Nope}}', built]);
  await compare(['image', 'inspect', '-f', '{{.Id', built]);
});

test('history: default table, -H=false, --no-trunc, -q, --format, missing image', async () => {
  await compare(['history', built]);
  await compare(['image', 'history', '-H=false', built]);
  await compare(['history', '--no-trunc', built]);
  await compare(['history', '-q', built]);
  await compare(['history', '--format', '{{json .}}', built]);
  await compare(['history', '--format', 'table {{.ID}}\t{{.CreatedBy}}', built]);
  await compare(['history', 'dockops-no-such-image']);
  const r = await h.run(`history ${built}`);
  // CREATED BY is cut at 45 columns; the tab in the printf line is shown as a space.
  assert.ok(r.stdout.includes("printf 'a b'"), r.stdout);
  assert.ok(r.stdout.split('\n').some((l) => l.includes('…')));
});

test('rmi removes every image it can and fails (exit 1) for the missing one', async () => {
  const a = `${uniqueName('rmi')}:a`;
  const b = `${uniqueName('rmi')}:b`;
  made.push(a, b);
  await docker().getImage(built).tag({ repo: a.split(':')[0], tag: 'a' });
  await docker().getImage(built).tag({ repo: b.split(':')[0], tag: 'b' });
  const r = await h.run(`rmi ${a} dockops-no-such-image ${b}`);
  assert.equal(r.result.exitCode, 1);
  assert.equal(r.stdout, `Untagged: ${a}\nUntagged: ${b}\n`);
  assert.equal(r.stderr, 'Error: No such image: dockops-no-such-image\n');
  // -f: a missing image is reported but not a failure, as docker does.
  const f = await h.run('image rm -f dockops-no-such-image');
  assert.deepEqual([f.result.exitCode, f.stderr], [0, 'Error: No such image: dockops-no-such-image\n']);
  assert.deepEqual([f.result.exitCode, f.stderr], [dockerCli(['rmi', '-f', 'dockops-no-such-image']).status, dockerCli(['rmi', '-f', 'dockops-no-such-image']).stderr]);
});

test('rmi of the last tag deletes the image and its layers (Deleted: lines)', async () => {
  const own = uniqueName('own');
  const id = build(own);
  made.push(id, own);
  const r = await h.run(`image remove ${own}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], `Untagged: ${own}:latest`);
  assert.equal(lines[1], `Deleted: ${id}`);
  assert.ok(lines.slice(1).every((l) => /^Deleted: sha256:[a-f0-9]{64}$/.test(l)));
});

test('image prune -f removes only our dangling image (filtered by our label)', async () => {
  const name = uniqueName('prune');
  const first = build(name);
  const second = build(name); // the first build is now dangling
  made.push(second, name);
  const r = await h.run(`image prune -f --filter label=${label}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'Deleted Images:');
  assert.ok(lines.includes(`deleted: ${first}`), r.stdout);
  assert.match(r.stdout, /\n\nTotal reclaimed space: \d+(\.\d+)?k?B\n$/);
  await assert.rejects(docker().getImage(first).inspect());
  await docker().getImage(second).inspect();
  // Nothing left to prune: the docker CLI's wording.
  await compare(['image', 'prune', '-f', '--filter', `label=${label}`]);
});
