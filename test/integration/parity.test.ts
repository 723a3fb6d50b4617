import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../support/harness.js';
import { DOCKER_CLI, docker, dockerCli, uniqueName } from '../support/env.js';
import { quoteWords } from '../../src/commands/tokenize.js';

/**
 * Output parity: the same command through dockops and through Debian's docker CLI (20.10, the
 * client that matches the engine) against the same engine state must print the same text.
 * Relative times ("5 seconds ago") can tick between the two runs, so a mismatch is retried.
 */
let h: Awaited<ReturnType<typeof harness>>;
const names = { web: uniqueName('web'), done: uniqueName('done') };

before(async () => {
  h = await harness();
  const d = docker();
  // A running container with published ports (a range and a single one) and an exited one.
  const web = await h.run(`run -d --name ${names.web} -p 127.0.0.1:18090-18091:8090-8091 -p 127.0.0.1::53/udp -l tier=web busybox httpd -f -p 8090`);
  assert.equal(web.result.exitCode, 0, web.stderr);
  const done = await h.run(`run --name ${names.done} busybox sh -c 'echo one; echo two; echo three >&2'`);
  assert.equal(done.result.exitCode, 0, done.stderr);
  void d;
});

after(async () => {
  const d = docker();
  for (const n of Object.values(names)) await d.getContainer(n).remove({ force: true }).catch(() => undefined);
  await h.close();
});

/** Rows of an image whose tags docker keeps in a Go map come out in random order: compare as sets. */
function sameModuloRowOrder(a: string, b: string): boolean {
  const [ha, ...ra] = a.split('\n');
  const [hb, ...rb] = b.split('\n');
  return ha === hb && JSON.stringify([...ra].sort()) === JSON.stringify([...rb].sort());
}

/** docker joins a container's labels from a Go map, in random order: sort them before comparing. */
function sortLabels(s: string): string {
  return s.replace(/"Labels":"([^"]*)"/g, (_m, l: string) => `"Labels":"${l.split(',').sort().join(',')}"`);
}

async function compare(words: string[], opts: { rowOrderFree?: boolean; normalize?: (s: string) => string } = {}) {
  const norm = opts.normalize ?? ((x: string) => x);
  let last: { ours: string; theirs: string; code: [number, number] } | undefined;
  for (let attempt = 0; attempt < 4; attempt++) {
    const ours = await h.run(quoteWords(words));
    const theirs = dockerCli(words);
    last = { ours: ours.stdout, theirs: theirs.stdout, code: [ours.result.exitCode, theirs.status] };
    const same = norm(ours.stdout) === norm(theirs.stdout) || (opts.rowOrderFree && sameModuloRowOrder(ours.stdout, theirs.stdout));
    if (same && ours.result.exitCode === theirs.status && ours.stderr === theirs.stderr) return;
    last = { ours: ours.stdout + ours.stderr, theirs: theirs.stdout + theirs.stderr, code: [ours.result.exitCode, theirs.status] };
  }
  assert.deepEqual({ out: last?.ours, code: last?.code[0] }, { out: last?.theirs, code: last?.code[1] }, `docker ${words.join(' ')} (vs ${DOCKER_CLI})`);
}

const cases: Array<[string, string[], { rowOrderFree?: boolean; normalize?: (s: string) => string }?]> = [
  ['ps', ['ps']],
  ['ps -a', ['ps', '-a']],
  ['ps -a --no-trunc', ['ps', '-a', '--no-trunc']],
  ['ps -a -q', ['ps', '-a', '-q']],
  ['ps -n 1', ['ps', '-n', '1']],
  ['ps -l', ['ps', '-l']],
  ['ps -a -f status=exited', ['ps', '-a', '-f', 'status=exited']],
  ['ps -f label=tier=web', ['ps', '-f', 'label=tier=web']],
  ['ps -a --format table', ['ps', '-a', '--format', 'table {{.Names}}\t{{.Image}}\t{{.Status}}\t{{.Ports}}']],
  ['ps --format json', ['ps', '-a', '--format', '{{json .}}'], { normalize: sortLabels }],
  ['ps --format fields', ['ps', '-a', '--format', '{{.ID}} {{.Names}} {{.State}} {{.Networks}} {{.LocalVolumes}} {{.CreatedAt}}']],
  ['images', ['images'], { rowOrderFree: true }],
  ['images -a', ['images', '-a'], { rowOrderFree: true }],
  ['images --digests', ['images', '--digests'], { rowOrderFree: true }],
  ['images --no-trunc', ['images', '--no-trunc'], { rowOrderFree: true }],
  ['images -q', ['images', '-q'], { rowOrderFree: true }],
  ['images busybox', ['images', 'busybox']],
  ['images -f reference=busybox', ['images', '-f', 'reference=busybox']],
  ['images -f dangling=true', ['images', '-f', 'dangling=true'], { rowOrderFree: true }],
  ['images --format', ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}} {{.CreatedAt}}'], { rowOrderFree: true }],
  ['images --format table', ['images', '--format', 'table {{.Repository}}\t{{.Tag}}\t{{.Size}}'], { rowOrderFree: true }],
  ['images --format json', ['images', '--format', '{{json .}}'], { rowOrderFree: true }],
  ['logs', ['logs', names.done]],
  ['logs --tail 1', ['logs', '--tail', '1', names.done]],
  ['logs -t', ['logs', '-t', names.done]],
  ['logs --until', ['logs', '--until', '2000-01-01T00:00:00Z', names.done]],
  ['logs of a missing container', ['logs', 'dockops-no-such-container']],
];

for (const [name, words, opts] of cases) {
  test(`same output as the docker CLI: ${name}`, () => compare(words, opts));
}

test('version: the Server block is the docker CLI one', async () => {
  const ours = await h.run('version');
  const theirs = dockerCli(['version']);
  assert.equal(ours.result.exitCode, 0);
  assert.equal(ours.stdout.slice(ours.stdout.indexOf('Server:')), theirs.stdout.slice(theirs.stdout.indexOf('Server:')));
});

test('info: the Server block is the docker CLI one (counts aside)', async () => {
  const strip = (s: string) =>
    s
      .slice(s.indexOf('Server:'))
      .split('\n')
      .filter((l) => !/^ ?( Containers| Running| Paused| Stopped| Images):/.test(l))
      // docker prints the runtimes from a Go map: their order changes from run to run.
      .map((l) => (l.startsWith(' Runtimes: ') ? ` Runtimes: ${l.slice(11).split(' ').sort().join(' ')}` : l))
      .join('\n');
  const ours = await h.run('info');
  const theirs = dockerCli(['info']);
  assert.equal(strip(ours.stdout), strip(theirs.stdout));
});

test('version and info --format run Go templates over the engine data', async () => {
  const v = await h.run(`version --format '{{.Server.Version}} {{.Server.Os}}/{{.Server.Arch}}'`);
  assert.equal(v.stdout, dockerCli(['version', '--format', '{{.Server.Version}} {{.Server.Os}}/{{.Server.Arch}}']).stdout);
  const i = await h.run(`info --format '{{.Driver}} {{.OSType}} {{json .Plugins.Volume}}'`);
  assert.equal(i.stdout, dockerCli(['info', '--format', '{{.Driver}} {{.OSType}} {{json .Plugins.Volume}}']).stdout);
});
