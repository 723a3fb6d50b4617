import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, JobSpec, parseCommand } from '../../src/commands/index.js';
import { UsageError } from '../../src/errors.js';
import { historyRows } from '../../src/commands/image/history.js';
import { typedImage } from '../../src/render/docker-types.js';
import { inspectOutput } from '../../src/render/inspect-output.js';
import { pruneText } from '../../src/commands/image/prune.js';
import { compileTemplate } from '../../src/render/go-template.js';

const now = { now: () => Date.parse('2026-11-29T12:00:00Z') };
const spec = (cmd: string) => {
  const o = parseCommand(cmd, now);
  assert.equal(o.type, 'spec');
  return (o as { spec: JobSpec }).spec;
};
const usage = (cmd: string, re: RegExp, exitCode = 125) =>
  assert.throws(
    () => parseCommand(cmd, now),
    (e: unknown) => e instanceof UsageError && e.exitCode === exitCode && re.test(e.message),
    cmd,
  );

test('tag: both names checked as the docker client does, image tag is an alias', () => {
  assert.deepEqual(spec('tag busybox me/app:1'), { kind: 'image.tag', source: 'busybox', target: 'me/app:1' });
  assert.deepEqual(spec('image tag busybox:latest localhost:5000/app'), { kind: 'image.tag', source: 'busybox:latest', target: 'localhost:5000/app' });
  usage('tag busybox', /"docker tag" requires exactly 2 arguments/);
  usage('tag a b c', /"docker tag" requires exactly 2 arguments/);
  usage('tag busybox Bad:x', /^Error parsing reference: "Bad:x" is not a valid repository\/tag: invalid reference format: repository name must be lowercase$/, 1);
  usage('tag busybox bad::x', /is not a valid repository\/tag: invalid reference format$/, 1);
  usage(`tag busybox app@sha256:${'a'.repeat(64)}`, /refusing to create a tag with a digest reference/, 1);
});

test('image inspect: several images, -f/--format; no top-level inspect here', () => {
  assert.deepEqual(spec('image inspect a b'), { kind: 'image.inspect', images: ['a', 'b'], format: undefined });
  assert.deepEqual(spec("image inspect -f '{{.RootFS}}' a"), { kind: 'image.inspect', images: ['a'], format: '{{.RootFS}}' });
  assert.deepEqual((spec("image inspect --format='{{json .Config}}' a") as { format?: string }).format, '{{json .Config}}');
  usage('image inspect', /"docker image inspect" requires at least 1 argument/);
  assert.equal(COMMANDS.find((c) => c.path.join(' ') === 'image inspect')?.aliases, undefined);
});

test('history: flags, -H defaults to true, aliases', () => {
  assert.deepEqual(spec('history busybox'), { kind: 'image.history', image: 'busybox', human: true, noTrunc: false, quiet: false, format: undefined });
  assert.deepEqual(spec('image history -H=false --no-trunc -q --format {{.ID}} busybox'), {
    kind: 'image.history', image: 'busybox', human: false, noTrunc: true, quiet: true, format: '{{.ID}}',
  });
  usage('history', /"docker history" requires exactly 1 argument/);
  usage('history -H=maybe busybox', /invalid argument "maybe" for "-H, --human" flag/);
});

test('rmi: aliases, flags, several images, destructive', () => {
  for (const c of ['rmi a b', 'image rm a b', 'image remove a b']) {
    assert.deepEqual(spec(c), { kind: 'image.rm', images: ['a', 'b'], force: false, noPrune: false });
  }
  assert.deepEqual(spec('rmi -f --no-prune a'), { kind: 'image.rm', images: ['a'], force: true, noPrune: true });
  usage('rmi', /"docker rmi" requires at least 1 argument/);
  const rm = COMMANDS.find((c) => c.path.join(' ') === 'image rm');
  assert.equal(rm?.destructive, true);
});

test('image prune: refuses without -f (no prompt), filters, destructive', () => {
  usage('image prune', /add -f \(--force\) to confirm/, 1);
  usage('image prune -a', /all images without at least one container/, 1);
  assert.deepEqual(spec('image prune -f'), { kind: 'image.prune', all: false, filters: {} });
  assert.deepEqual(spec('image prune -af --filter label=a=b --filter until=24h'), { kind: 'image.prune', all: true, filters: { label: ['a=b'], until: ['24h'] } });
  usage('image prune -f --filter dangling=false', /invalid filter 'dangling'/, 1);
  usage('image prune -f x', /"docker image prune" accepts no arguments/);
  assert.equal(COMMANDS.find((c) => c.path.join(' ') === 'image prune')?.destructive, true);
});

test('history rows: <missing> ids, 45-column CREATED BY with an ellipsis, tabs as spaces, sizes', () => {
  const items = [
    { Id: 'sha256:' + 'c'.repeat(64), Created: Date.parse('2026-11-29T11:59:00Z') / 1000, CreatedBy: '/bin/sh -c #(nop)  LABEL dockops.test=0123456789abcdef', Tags: null, Size: 0, Comment: '' },
    { Id: '<missing>', Created: Date.parse('2026-11-29T10:00:00Z') / 1000, CreatedBy: "/bin/sh -c printf 'a\tb'", Tags: null, Size: 1984172, Comment: 'Imported from -' },
  ];
  const rows = historyRows(items, { human: true, noTrunc: false }, now.now());
  assert.equal(rows[0].ID, 'cccccccccccc');
  assert.equal(rows[0].CreatedBy, '/bin/sh -c #(nop)  LABEL dockops.test=012345…');
  assert.equal([...rows[0].CreatedBy].length, 45);
  assert.equal(rows[0].CreatedSince, 'About a minute ago');
  assert.equal(rows[0].Size, '0B');
  assert.equal(rows[1].ID, '<missing>');
  assert.equal(rows[1].CreatedBy, "/bin/sh -c printf 'a b'");
  assert.equal(rows[1].Size, '1.98MB');
  const raw = historyRows(items, { human: false, noTrunc: true }, now.now());
  assert.equal(raw[0].ID, 'sha256:' + 'c'.repeat(64));
  assert.equal(raw[0].CreatedSince, '2026-11-29T11:59:00Z');
  assert.equal(raw[1].Size, '1984172');
});

const sample = {
  Id: 'sha256:abc',
  RepoTags: ['busybox:latest'],
  RepoDigests: [],
  Parent: '',
  Comment: '',
  Created: '2026-11-29T05:22:27.046202038Z',
  Container: '',
  ContainerConfig: { Hostname: '', Cmd: null, Env: null, Labels: null },
  DockerVersion: '',
  Author: '',
  Config: { Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, ExposedPorts: { '80/tcp': {} }, Tty: false, OpenStdin: false, StdinOnce: false, Env: ['PATH=/bin'], Cmd: ['sh'], Image: '', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: { a: '<b>' } },
  Architecture: 'amd64',
  Os: 'linux',
  Size: 1984172,
  VirtualSize: 1984172,
  GraphDriver: { Data: { MergedDir: '/m' }, Name: 'overlay2' },
  RootFS: { Type: 'layers', Layers: ['sha256:92ab'] },
  Metadata: { LastTagTime: '2026-11-29T06:25:33.063963490Z' },
};
const run = (tpl: string, data: unknown) => compileTemplate(tpl, { rowContext: false })(data);

test('image inspect templates see Go structs: {{.RootFS}}, {{.Config}}, {{.Metadata}}, {{.ID}}', () => {
  const t = typedImage(sample);
  assert.equal(run('{{.RootFS}}', t), '{layers [sha256:92ab] }');
  assert.equal(run('{{.GraphDriver}}', t), '{map[MergedDir:/m] overlay2}');
  assert.equal(run('{{.Metadata}}', t), '{2026-11-29 06:25:33.06396349 +0000 UTC}');
  assert.equal(run('{{.Config}}', t), '{   false false false map[80/tcp:{}] false false false [PATH=/bin] [sh] <nil> false  map[]  [] false  [] map[a:<b>]  <nil> []}');
  assert.equal(run('{{.ID}} {{.Size}} {{.Config.Labels.a}} {{index .Config.Env 0}}', t), 'sha256:abc 1984172 <b> PATH=/bin');
  // json gives back what the engine sent, in its order, without HTML escaping.
  assert.equal(run('{{json .Config}}', t), JSON.stringify(sample.Config));
  assert.equal(run('{{json .RootFS}}', t), '{"Type":"layers","Layers":["sha256:92ab"]}');
  assert.equal(run('{{json .ContainerConfig.Env}}', t), 'null');
  assert.throws(() => run('{{.Id}}', t), /can't evaluate field Id/);
  assert.equal(run('{{.Id}}', sample), 'sha256:abc');
});

test('image inspect default output: a JSON array indented with 4 spaces, [] when empty', () => {
  const indentJson = (values: unknown[]) => inspectOutput(values.map((value) => ({ value })), { htmlEscape: false }).stdout;
  assert.equal(indentJson([]), '[]\n');
  assert.equal(indentJson([{ A: [1], B: {}, C: [], D: '<x>' }]), '[\n    {\n        "A": [\n            1\n        ],\n        "B": {},\n        "C": [],\n        "D": "<x>"\n    }\n]\n');
});

test('image prune text: Deleted Images list, blank line, total', () => {
  assert.equal(pruneText({ ImagesDeleted: null, SpaceReclaimed: 0 }), 'Total reclaimed space: 0B\n');
  assert.equal(
    pruneText({ ImagesDeleted: [{ Untagged: 'x:1' }, { Deleted: 'sha256:aa' }], SpaceReclaimed: 1984172 }),
    'Deleted Images:\nuntagged: x:1\ndeleted: sha256:aa\n\nTotal reclaimed space: 1.984MB\n',
  );
});
