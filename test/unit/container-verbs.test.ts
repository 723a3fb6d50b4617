import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, JobSpec, commandForKind, parseCommand } from '../../src/commands/index.js';
import { indentJson } from '../../src/commands/container/inspect.js';
import { checkPolicy } from '../../src/policy/index.js';
import { PolicyError, UsageError } from '../../src/errors.js';

const spec = (cmd: string) => {
  const o = parseCommand(cmd);
  assert.equal(o.type, 'spec', cmd);
  return (o as { spec: JobSpec }).spec;
};
const usage = (cmd: string, re: RegExp, exitCode = 125) =>
  assert.throws(
    () => parseCommand(cmd),
    (e: unknown) => e instanceof UsageError && e.exitCode === exitCode && re.test(e.message),
    cmd,
  );

test('aliases reach the container verbs', () => {
  const cases: Record<string, string[]> = {
    'container.create': ['create busybox', 'container create busybox'],
    'container.start': ['start a', 'container start a'],
    'container.stop': ['stop a', 'container stop a'],
    'container.kill': ['kill a', 'container kill a'],
    'container.restart': ['restart a', 'container restart a'],
    'container.pause': ['pause a', 'container pause a'],
    'container.unpause': ['unpause a', 'container unpause a'],
    'container.wait': ['wait a', 'container wait a'],
    'container.rm': ['rm a', 'container rm a', 'container remove a'],
    'container.prune': ['container prune -f'],
    'container.rename': ['rename a b', 'container rename a b'],
    'container.inspect': ['inspect a', 'container inspect a'],
    'container.top': ['top a', 'container top a'],
    'container.diff': ['diff a', 'container diff a'],
    'container.port': ['port a', 'container port a'],
  };
  for (const [kind, cmds] of Object.entries(cases)) {
    for (const c of cmds) assert.equal(spec(c).kind, kind, c);
    assert.ok(commandForKind(kind), kind);
  }
});

test('rm, kill, stop and container prune are destructive; the others are not', () => {
  const destructive = COMMANDS.filter((c) => c.destructive).map((c) => c.path.join(' '));
  for (const p of ['container rm', 'container kill', 'container stop', 'container prune']) assert.ok(destructive.includes(p), p);
  for (const p of ['container start', 'container pause', 'container inspect', 'inspect']) assert.ok(!destructive.includes(p), p);
});

test('stop and restart: -t only when given (the container keeps its own StopTimeout otherwise)', () => {
  assert.deepEqual(spec('stop a b'), { kind: 'container.stop', containers: ['a', 'b'], time: undefined });
  assert.deepEqual(spec('stop -t 3 a'), { kind: 'container.stop', containers: ['a'], time: 3 });
  assert.deepEqual(spec('stop --time=0 a'), { kind: 'container.stop', containers: ['a'], time: 0 });
  assert.deepEqual(spec('restart -t1 a'), { kind: 'container.restart', containers: ['a'], time: 1 });
  usage('stop -t x a', /^invalid argument "x" for "-t, --time" flag: strconv.ParseInt: parsing "x": invalid syntax\nSee 'docker stop --help'\.$/);
  usage('stop', /^"docker stop" requires at least 1 argument\./);
});

test('kill: -s/--signal, KILL by default', () => {
  assert.deepEqual(spec('kill a b'), { kind: 'container.kill', containers: ['a', 'b'], signal: 'KILL' });
  assert.deepEqual(spec('kill -s HUP a'), { kind: 'container.kill', containers: ['a'], signal: 'HUP' });
  assert.deepEqual(spec('kill --signal=SIGTERM a'), { kind: 'container.kill', containers: ['a'], signal: 'SIGTERM' });
});

test('start: -a for one container, -i refused, several without -a', () => {
  assert.deepEqual(spec('start a b'), { kind: 'container.start', containers: ['a', 'b'], attach: false });
  assert.deepEqual(spec('start -a a'), { kind: 'container.start', containers: ['a'], attach: true });
  usage('start -i a', /start -i needs a terminal/);
  usage('start -ai a', /start -i needs a terminal/);
  usage('start -a a b', /^you cannot start and attach multiple containers at once$/, 1);
});

test('rm: -f, -v; -l refused as a legacy link', () => {
  assert.deepEqual(spec('rm -fv a b'), { kind: 'container.rm', containers: ['a', 'b'], force: true, volumes: true });
  assert.deepEqual(spec('rm a'), { kind: 'container.rm', containers: ['a'], force: false, volumes: false });
  usage('rm -l a/b', /links are legacy/);
});

test('container prune: -f required (dockops cannot prompt), filters passed to the engine', () => {
  usage('container prune', /add -f/, 1);
  usage('container prune --filter label=x', /add -f/, 1);
  assert.deepEqual(spec('container prune -f --filter label=x --filter until=24h'), { kind: 'container.prune', filters: { label: ['x'], until: ['24h'] } });
  usage('container prune -f --filter nonsense', /bad format of filter/);
  usage('prune -f', /'prune' is not a docker command/, 1);
});

test('rename, wait, pause, diff: argument counts in docker words', () => {
  assert.deepEqual(spec('rename a b'), { kind: 'container.rename', container: 'a', newName: 'b' });
  usage('rename a', /^"docker rename" requires exactly 2 arguments\./);
  usage('diff a b', /^"docker diff" requires exactly 1 argument\./);
  assert.deepEqual(spec('wait a b'), { kind: 'container.wait', containers: ['a', 'b'] });
  assert.deepEqual(spec('unpause a b'), { kind: 'container.unpause', containers: ['a', 'b'] });
});

test('top: everything after the container goes to ps', () => {
  assert.deepEqual(spec('top web'), { kind: 'container.top', container: 'web', psArgs: '' });
  assert.deepEqual(spec('top web -o pid,comm'), { kind: 'container.top', container: 'web', psArgs: '-o pid,comm' });
  assert.deepEqual(spec('top web aux'), { kind: 'container.top', container: 'web', psArgs: 'aux' });
});

test('port: PRIVATE_PORT[/PROTO], tcp by default', () => {
  assert.deepEqual(spec('port web'), { kind: 'container.port', container: 'web', port: undefined });
  assert.deepEqual(spec('port web 80'), { kind: 'container.port', container: 'web', port: '80/tcp' });
  assert.deepEqual(spec('port web 53/udp'), { kind: 'container.port', container: 'web', port: '53/udp' });
  usage('port web http', /invalid port "http"/, 1);
  usage('port web 80 81', /at most 2 arguments/);
});

test('inspect: -f, -s, --type; container inspect has no --type', () => {
  assert.deepEqual(spec('inspect a b'), { kind: 'container.inspect', names: ['a', 'b'], type: undefined, containerOnly: false, format: undefined, size: false });
  assert.deepEqual(spec("inspect -s -f '{{.Name}}' --type container a"), { kind: 'container.inspect', names: ['a'], type: 'container', containerOnly: false, format: '{{.Name}}', size: true });
  assert.deepEqual(spec('container inspect a'), { kind: 'container.inspect', names: ['a'], type: 'container', containerOnly: true, format: undefined, size: false });
  usage('inspect --type foo a', /^"foo" is not a valid value for --type$/, 1);
  usage('container inspect --type image a', /^unknown flag: --type\nSee 'docker container inspect --help'\.$/);
  // docker exits 64 for a template that does not parse.
  usage("inspect -f '{{.Name' a", /^template parsing error: template: :1: unclosed action$/, 64);
});

test('create: the run options, no -d; the policy holds for create as for run', () => {
  const s = spec('create --name web -p 127.0.0.1:8080:80 -e A=1 busybox:latest sleep 5');
  assert.equal(s.kind, 'container.create');
  if (s.kind !== 'container.create') return;
  assert.equal(s.name, 'web');
  assert.deepEqual(s.cmd, ['sleep', '5']);
  assert.deepEqual(s.ports, [{ ip: '127.0.0.1', hostPort: '8080', containerPort: 80, proto: 'tcp' }]);
  usage('create -d busybox', /unknown shorthand flag: 'd' in -d/);
  const policy = { allowPrivileged: false, allowCapAdd: false, allowHostNamespaces: false, bindAllowlist: [] };
  assert.throws(() => checkPolicy(spec('create --privileged busybox'), policy), PolicyError);
  assert.throws(() => checkPolicy(spec('create -v /etc:/x busybox'), policy), PolicyError);
});

test('indentJson: docker inspect layout, key order, escapes and empty values kept', () => {
  assert.equal(indentJson([]), '[]');
  assert.equal(
    indentJson(['{"b":1,"a":[],"c":{},"d":"x\\"y<&>","e":[1,{"f":null}],"n":12345678901234567890}']),
    '[\n    {\n        "b": 1,\n        "a": [],\n        "c": {},\n        "d": "x\\"y<&>",\n        "e": [\n            1,\n            {\n                "f": null\n            }\n        ],\n        "n": 12345678901234567890\n    }\n]',
  );
  assert.equal(indentJson(['{"a":1}', '{"b":"{,:}"}']), '[\n    {\n        "a": 1\n    },\n    {\n        "b": "{,:}"\n    }\n]');
});
