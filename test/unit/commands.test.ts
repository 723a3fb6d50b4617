import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, JobSpec, parseCommand } from '../../src/commands/index.js';
import { checkPolicy } from '../../src/policy/index.js';
import { PolicyError, UsageError } from '../../src/errors.js';

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

test('aliases reach the same verb: images = image ls = image list, ps = container ls', () => {
  for (const c of ['images', 'image ls', 'image list', 'docker images']) assert.equal(spec(c).kind, 'image.ls');
  for (const c of ['ps', 'container ls', 'container list', 'container ps']) assert.equal(spec(c).kind, 'container.ls');
  assert.equal(spec('logs web').kind, 'container.logs');
  assert.equal(spec('container logs web').kind, 'container.logs');
  assert.equal(spec('system info').kind, 'system.info');
});

test('every verb has --help in docker layout', () => {
  for (const c of COMMANDS) {
    const o = parseCommand([...c.path, '--help']);
    assert.equal(o.type, 'help');
    const text = (o as { text: string }).text;
    assert.match(text, new RegExp(`Usage:  docker ${c.path.join(' ')} `));
    assert.match(text, /Options:\n/);
  }
  const top = parseCommand('--help');
  assert.equal(top.type, 'help');
});

test('--help after the image of run goes to the container, not to dockops', () => {
  const s = spec('run busybox ls --help');
  assert.equal(s.kind, 'container.run');
  assert.deepEqual((s as { cmd: string[] }).cmd, ['ls', '--help']);
});

test('unknown commands and flags use the docker CLI wording', () => {
  usage('frobnicate', /^docker: 'frobnicate' is not a docker command\.\nSee 'docker --help'$/, 1);
  usage('image frob', /'image frob' is not a docker command/, 1);
  usage('run --foo busybox', /^unknown flag: --foo\nSee 'docker run --help'\.$/);
  usage('ps --foo', /^unknown flag: --foo\nSee 'docker ps --help'\.$/);
  usage('ps x', /"docker ps" accepts no arguments/);
  usage('logs', /"docker logs" requires exactly 1 argument/);
  usage('run', /"docker run" requires at least 1 argument/);
  usage('', /no command given/, 1);
});

test('ps and images flags become a spec', () => {
  assert.deepEqual(spec('ps -a -q -n 3 -f status=exited --format "{{.ID}}"'), {
    kind: 'container.ls', all: true, last: 3, latest: false, noTrunc: false, quiet: true, size: false,
    filters: { status: ['exited'] }, format: '{{.ID}}',
  });
  assert.deepEqual(spec('images -a --digests --no-trunc -f dangling=true busybox'), {
    kind: 'image.ls', all: true, digests: true, noTrunc: true, quiet: false, filters: { dangling: ['true'] }, reference: 'busybox', format: undefined,
  });
  usage('images -f nonsense', /bad format of filter/);
  usage('ps -f bogus=1', /invalid filter 'bogus'/, 1);
});

test('run reads its flags and leaves the command to the container', () => {
  const s = spec('run --rm -d --name web -e A=1 -e B=2 -w /tmp --entrypoint sh -p 127.0.0.1:8080:80 -p 53/udp -v data:/data:ro busybox -c "echo hi"');
  assert.equal(s.kind, 'container.run');
  const r = s as Extract<JobSpec, { kind: 'container.run' }>;
  assert.equal(r.rm, true);
  assert.equal(r.detach, true);
  assert.equal(r.name, 'web');
  assert.deepEqual(r.env, ['A=1', 'B=2']);
  assert.equal(r.workdir, '/tmp');
  assert.equal(r.entrypoint, 'sh');
  assert.deepEqual(r.ports, [
    { ip: '127.0.0.1', hostPort: '8080', containerPort: 80, proto: 'tcp' },
    { ip: '', hostPort: '', containerPort: 53, proto: 'udp' },
  ]);
  assert.deepEqual(r.mounts, [{ type: 'volume', source: 'data', target: '/data', readOnly: true, api: false }]);
  assert.deepEqual(r.cmd, ['-c', 'echo hi']);
  usage('run -p 99999:80 busybox', /invalid hostPort/);
  usage('run -e FOO busybox', /no shell environment/);
  usage('run -l dockops.job-id=x busybox', /reserved/);
  usage('run Busybox', /invalid reference format/);
});

test('logs converts --since/--until relative to now, checks --tail', () => {
  const s = spec('logs --since 10m --until 2026-11-29T11:55:00Z --tail 5 -t web') as Extract<JobSpec, { kind: 'container.logs' }>;
  assert.equal(s.since, String(Date.parse('2026-11-29T11:50:00Z') / 1000));
  assert.equal(Number(s.until), Date.parse('2026-11-29T11:55:00Z') / 1000);
  assert.equal(s.tail, '5');
  assert.equal(s.timestamps, true);
  usage('logs --tail many web', /"many" is not a number/);
  usage('logs --since yesterday web', /failed to parse value as time or duration/);
});

test('policy refuses what would give away the host, unless configured', () => {
  const closed = { allowPrivileged: false, allowHostNamespaces: false, allowCapAdd: false, bindAllowlist: ['/srv/data'] };
  const refused = (cmd: string, re: RegExp) =>
    assert.throws(() => checkPolicy(spec(cmd), closed), (e: unknown) => e instanceof PolicyError && e.exitCode === 125 && re.test(e.message), cmd);
  refused('run --privileged busybox', /DOCKOPS_ALLOW_PRIVILEGED/);
  refused('run --network host busybox', /DOCKOPS_ALLOW_HOST_NAMESPACES/);
  refused('run --cap-add SYS_ADMIN busybox', /DOCKOPS_ALLOW_CAP_ADD/);
  refused('run -v /etc:/x busybox', /outside the allowed host paths/);
  refused('run --mount type=bind,source=/etc,target=/x busybox', /outside the allowed host paths/);
  refused('create --privileged busybox', /DOCKOPS_ALLOW_PRIVILEGED/);
  refused('run -v /srv/data/../../etc:/x busybox', /outside the allowed host paths/);
  refused('run -v /srv/database:/x busybox', /outside the allowed host paths/);
  checkPolicy(spec('run -v /srv/data/app:/x busybox'), closed);
  checkPolicy(spec('run -v named:/x busybox'), closed);
  checkPolicy(spec('run --privileged busybox'), { ...closed, allowPrivileged: true });
});

test('the global --host picks the Docker host; attach explains what works instead', () => {
  const o = parseCommand('--host build ps -a');
  assert.equal(o.type, 'spec');
  assert.equal((o as { host?: string }).host, 'build');
  assert.equal((parseCommand('-H b images') as { host?: string }).host, 'b');
  assert.equal((parseCommand('--host=b version') as { host?: string }).host, 'b');
  assert.equal((parseCommand('ps') as { host?: string }).host, undefined);
  usage('--host', /--host needs a host name/);
  usage('--host "Bad Host" ps', /--host needs a host name/);
  usage('attach web', /attach needs a terminal.*exec CONTAINER CMD.*logs -f --for 2m/, 1);
  usage('container attach web', /attach needs a terminal/, 1);
});
