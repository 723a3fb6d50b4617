import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { harness } from '../support/harness.js';
import { DOCKER_CLI, DOCKER_HOST, docker, dockerCli, uniqueName } from '../support/env.js';
import { quoteWords } from '../../src/commands/tokenize.js';

/**
 * `system df -v` with and without --format, through dockops and through Debian's docker CLI
 * (20.10) against the same engine. The whole engine is listed, and relative times tick, so a
 * mismatch is tried again (files run one at a time in `npm test`: the engine is quiet there).
 */
let h: Awaited<ReturnType<typeof harness>>;
const names = { ctr: uniqueName('dfv'), vol: uniqueName('dfv-vol'), img: uniqueName('dfv-img').toLowerCase() };
const imageIds: string[] = [];

function buildImage(content: string): string {
  return execFileSync(DOCKER_CLI, ['build', '-q', '-t', names.img, '-'], {
    env: { ...process.env, DOCKER_HOST },
    input: `FROM busybox:latest\nLABEL dockops.test=${names.img}\nRUN echo ${content} > /a\n`,
    encoding: 'utf8',
  }).trim();
}

before(async () => {
  h = await harness();
  // A tagged image and a dangling one (the same tag built twice), a volume and a running container using both.
  // The engine lists images created in the same second in a random order: a second apart, they keep theirs.
  imageIds.push(buildImage('one'));
  await new Promise((r) => setTimeout(r, 1100));
  imageIds.push(buildImage('two'));
  assert.equal(dockerCli(['volume', 'create', names.vol]).status, 0);
  const run = dockerCli(['run', '-d', '--name', names.ctr, '-l', 'tier=<web>', '-v', `${names.vol}:/data`, '-p', '127.0.0.1::80', names.img, 'sh', '-c', 'echo x > /data/f; echo y > /f; sleep 600']);
  assert.equal(run.status, 0, run.stderr);
});

after(async () => {
  await docker().getContainer(names.ctr).remove({ force: true }).catch(() => undefined);
  dockerCli(['volume', 'rm', names.vol]);
  for (const id of imageIds.reverse()) dockerCli(['rmi', '-f', id]);
  await h.close();
});

/**
 * The engine lists volumes (and images created in the same second) from a Go map: in a new order
 * each time, for docker as for dockops. These put them in one order before comparing.
 */
const byName = (list: Array<{ Name: string }>) => [...list].sort((x, y) => (x.Name < y.Name ? -1 : 1));
const norm = {
  lines: (s: string) => s.split('\n').sort().join('\n'),
  blocks: (s: string) => s.split('\n\n').sort().join('\n\n'),
  volumeTable: (s: string) => s.replace(/(VOLUME NAME[^\n]*\n)([\s\S]*?)(\n\n)/, (_m, head: string, rows: string, end: string) => head + rows.split('\n').sort().join('\n') + end),
  volumesJson: (s: string) => JSON.stringify(byName(JSON.parse(s))),
  wholeJson: (s: string) => {
    const o = JSON.parse(s);
    return JSON.stringify({ ...o, Volumes: byName(o.Volumes) });
  },
};

/**
 * docker joins a container's labels in the order its map gives them, which is not always sorted
 * (a CI run saw a 7-label container's labels rotated on every one of six tries), where dockops
 * sorts them: both sides are put in one order, in JSON rows, raw blocks and `{{.Labels}}` text.
 */
const sortLabels = (s: string) =>
  s
    .replace(/("Labels":")([^"]*)(")/g, (_m, a: string, l: string, b: string) => a + l.split(',').sort().join(',') + b)
    .replace(/^(labels: )(.*)$/gm, (_m, a: string, l: string) => a + l.split(',').sort().join(','))
    .replace(/(?<=^|\s)[\w.\-/]+=[^\s,]*(?:,[\w.\-/]+=[^\s,]*)+(?=\s|$)/gm, (m) => m.split(',').sort().join(','));

async function compare(words: string[], normalize: (s: string) => string = (x) => x) {
  let last: unknown;
  for (let attempt = 0; attempt < 6; attempt++) {
    const ours = await h.run(quoteWords(words));
    const theirs = dockerCli(words);
    const n = (x: string) => (x ? normalize(sortLabels(x)) : x);
    const a = { stdout: n(ours.stdout), stderr: ours.stderr, code: ours.result.exitCode };
    const b = { stdout: n(theirs.stdout), stderr: theirs.stderr, code: theirs.status };
    if (JSON.stringify(a) === JSON.stringify(b)) return a;
    last = [a, b];
    await new Promise((r) => setTimeout(r, 300));
  }
  const [a, b] = last as [unknown, unknown];
  assert.deepEqual(a, b, `docker ${words.join(' ')} (vs ${DOCKER_CLI})`);
  return a as { stdout: string };
}

const cases: Array<[string, string[], ((s: string) => string)?]> = [
  ['-v (the four tables)', ['system', 'df', '-v'], norm.volumeTable],
  ['-v --format table', ['system', 'df', '-v', '--format', 'table'], norm.volumeTable],
  ['-v --format over images', ['system', 'df', '-v', '--format', '{{range .Images}}{{.ID}} {{.Repository}}:{{.Tag}} [{{.Digest}}] {{.Size}} {{.VirtualSize}} {{.SharedSize}} {{.UniqueSize}} {{.Containers}} {{.CreatedAt}}\\n{{end}}']],
  ['-v --format over containers', ['system', 'df', '-v', '--format', '{{range .Containers}}{{.ID}} {{.Image}} {{.Command}} {{.LocalVolumes}} {{.Size}} {{.Names}} {{.Labels}} {{.Mounts}} {{.Ports}} {{.State}} {{.Networks}} {{.CreatedAt}}\\n{{end}}']],
  ['-v --format table (IDs and commands shortened)', ['system', 'df', '-v', '--format', 'table {{range .Containers}}{{.ID}} {{.Command}} {{.Mounts}}|{{end}}{{range .Images}}{{.ID}}|{{end}}']],
  ['-v --format over volumes', ['system', 'df', '-v', '--format', '{{range .Volumes}}{{.Name}} {{.Driver}} {{.Links}} {{.Size}} {{.Scope}} {{.Mountpoint}} [{{.Labels}}]\\n{{end}}'], norm.lines],
  ['-v --format counts, no newline added', ['system', 'df', '-v', '--format', '  {{len .Images}} {{len .Containers}} {{len .Volumes}} {{len .BuildCache}}  ']],
  ['-v --format json of a section', ['system', 'df', '-v', '--format', '{{json .Volumes}}'], norm.volumesJson],
  ['-v --format json of everything', ['system', 'df', '-v', '--format', '{{json .}}'], norm.wholeJson],
  ['-v --format json of one row', ['system', 'df', '-v', '--format', '{{range .Containers}}{{json .}}\\n{{end}}']],
  ['-v --format raw', ['system', 'df', '-v', '--format', 'raw'], norm.blocks],
  ['-v --format with a missing field', ['system', 'df', '-v', '--format', '{{.Nope}}']],
  ['-v --format with a missing row field', ['system', 'df', '-v', '--format', '{{range .Images}}{{.Nope}}{{end}}']],
  ['-v --format unclosed', ['system', 'df', '-v', '--format', '{{.Images']],
];

for (const [name, words, normalize] of cases) {
  test(`system df, same output as the docker CLI: ${name}`, () => compare(words, normalize).then(() => undefined));
}

test('the -v output names this test\'s objects (so the comparisons above saw them)', async () => {
  const out = (await compare(['system', 'df', '-v', '--format', '{{range .Containers}}{{.Names}} {{.Labels}}\\n{{end}}{{json .Images}}'])).stdout;
  assert.match(out, new RegExp(`^${names.ctr} .*tier=<web>$`, 'm'));
  assert.ok(out.includes('"Repository":"\\u003cnone\\u003e"'), 'the dangling image is there, escaped as docker escapes rows');
});
