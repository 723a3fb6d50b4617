import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, JobSpec, parseCommand } from '../../src/commands/index.js';
import { UsageError } from '../../src/errors.js';
import { consolidateIpam } from '../../src/commands/network/create.js';
import { volumePruneText } from '../../src/commands/volume/prune.js';
import { networkPruneText } from '../../src/commands/network/prune.js';
import { goTimeOfRfc3339, networkRows } from '../../src/commands/network/ls.js';
import { volumeRows } from '../../src/commands/volume/ls.js';
import { naturalLess } from '../../src/render/sort.js';
import { inspectOutput } from '../../src/render/inspect-output.js';

const spec = (cmd: string) => {
  const o = parseCommand(cmd);
  assert.equal(o.type, 'spec');
  return (o as { spec: JobSpec }).spec;
};
const usage = (cmd: string, re: RegExp, exitCode = 125) =>
  assert.throws(
    () => parseCommand(cmd),
    (e: unknown) => e instanceof UsageError && e.exitCode === exitCode && re.test(e.message),
    cmd,
  );

test('volume create: name positional or --name, driver, repeated -o and --label', () => {
  assert.deepEqual(spec('volume create -d local -o type=tmpfs -o device=tmpfs --label a=b --label c v1'), {
    kind: 'volume.create',
    name: 'v1',
    driver: 'local',
    options: { type: 'tmpfs', device: 'tmpfs' },
    labels: { a: 'b', c: '' },
  });
  assert.equal((spec('volume create --name v2') as { name: string }).name, 'v2');
  assert.deepEqual(spec('volume create'), { kind: 'volume.create', name: '', driver: 'local', options: {}, labels: {} });
  usage('volume create --name a b', /^conflicting options: either specify --name or provide positional arg, not both$/, 1);
  usage('volume create a b', /requires at most 1 argument/);
});

test('volume ls / network ls: flags, filters, aliases', () => {
  assert.deepEqual(spec('volume ls -q -f dangling=true -f name=x --format {{.Name}}'), {
    kind: 'volume.ls',
    quiet: true,
    filters: { dangling: ['true'], name: ['x'] },
    format: '{{.Name}}',
  });
  assert.equal(spec('volume list').kind, 'volume.ls');
  usage('volume ls -f bogus=1', /invalid filter 'bogus'/, 1);
  assert.deepEqual(spec('network ls -q --no-trunc -f driver=bridge'), {
    kind: 'network.ls',
    quiet: true,
    noTrunc: true,
    filters: { driver: ['bridge'] },
    format: undefined,
  });
  assert.equal(spec('network list').kind, 'network.ls');
});

test('inspect and rm take one or more names', () => {
  assert.deepEqual(spec('volume inspect -f {{.Name}} a b'), { kind: 'volume.inspect', volumes: ['a', 'b'], format: '{{.Name}}' });
  assert.deepEqual(spec('network inspect -v n'), { kind: 'network.inspect', networks: ['n'], verbose: true, format: undefined });
  assert.deepEqual(spec('volume rm -f a b'), { kind: 'volume.rm', volumes: ['a', 'b'], force: true });
  assert.deepEqual(spec('volume remove a').kind, 'volume.rm');
  assert.deepEqual(spec('network rm a b'), { kind: 'network.rm', networks: ['a', 'b'] });
  usage('volume inspect', /"docker volume inspect" requires at least 1 argument/);
  usage('network rm', /"docker network rm" requires at least 1 argument/);
});

test('prune refuses without -f (exit 1), takes --filter, and -a for volumes', () => {
  usage('volume prune', /add -f \(--force\)/, 1);
  usage('network prune --filter label=x', /add -f \(--force\)/, 1);
  assert.deepEqual(spec('volume prune -f --filter label=x=y'), { kind: 'volume.prune', all: false, filters: { label: ['x=y'] } });
  assert.deepEqual(spec('volume prune -af'), { kind: 'volume.prune', all: true, filters: {} });
  assert.deepEqual(spec('network prune -f --filter until=24h'), { kind: 'network.prune', filters: { until: ['24h'] } });
  usage('volume prune -f --filter dangling=true', /invalid filter 'dangling'/, 1);
});

test('rm and prune verbs are destructive; the others are not', () => {
  const destructive = COMMANDS.filter((c) => c.destructive && ['volume', 'network'].includes(c.path[0])).map((c) => c.path.join(' '));
  assert.deepEqual(destructive.sort(), ['network prune', 'network rm', 'volume prune', 'volume restore', 'volume rm']);
});

test('network create: IPAM consolidated as the docker CLI does', () => {
  const s = spec(
    'network create -d bridge --subnet 10.213.5.0/24 --gateway 10.213.5.1 --ip-range 10.213.5.128/25 --internal --attachable --label a=b -o x=y n1',
  );
  assert.deepEqual(s, {
    kind: 'network.create',
    name: 'n1',
    driver: 'bridge',
    ipam: [{ Subnet: '10.213.5.0/24', Gateway: '10.213.5.1', IPRange: '10.213.5.128/25', AuxiliaryAddresses: {} }],
    internal: true,
    attachable: true,
    labels: { a: 'b' },
    options: { x: 'y' },
    ipv6: false,
    ipamDriver: 'default',
    ipamOptions: {},
    scope: '',
    ingress: false,
    configOnly: false,
    configFrom: undefined,
  });
  assert.deepEqual(consolidateIpam(['10.213.1.0/24', '10.213.2.0/24'], [], ['10.213.2.1']), [
    { Subnet: '10.213.1.0/24', AuxiliaryAddresses: {} },
    { Subnet: '10.213.2.0/24', Gateway: '10.213.2.1', AuxiliaryAddresses: {} },
  ]);
  // --aux-address goes to the subnet holding it; --ipv6, IPAM driver and options, scope, config-only/-from, ingress.
  const v6 = spec(
    'network create --ipv6 --subnet 10.213.6.0/24 --subnet fd00:213::/64 --aux-address a=10.213.6.5 --aux-address b=fd00:213::5 --ipam-driver default --ipam-opt k=v --scope local --config-only --ingress --config-from base n2',
  );
  assert.deepEqual(v6.kind === 'network.create' && [v6.ipam, v6.ipv6, v6.ipamDriver, v6.ipamOptions, v6.scope, v6.configOnly, v6.ingress, v6.configFrom], [
    [
      { Subnet: '10.213.6.0/24', AuxiliaryAddresses: { a: '10.213.6.5' } },
      { Subnet: 'fd00:213::/64', AuxiliaryAddresses: { b: 'fd00:213::5' } },
    ],
    true, 'default', { k: 'v' }, 'local', true, true, 'base',
  ]);
  usage('network create --subnet 10.213.7.0/24 --aux-address a=10.1.1.1 n', /^no matching subnet for aux-address 10.1.1.1$/, 1);
  usage('network create --aux-address a=10.1.1.1 n', /^no matching subnet for aux-address 10.1.1.1$/, 1);
  usage('network create --gateway 10.0.0.1 n', /^every ip-range or gateway must have a corresponding subnet$/, 1);
  usage('network create --subnet 10.213.3.0/24 --gateway 10.213.4.1 n', /^no matching subnet for gateway 10.213.4.1$/, 1);
  usage('network create --subnet 10.213.3.0/24 --subnet 10.213.3.0/25 n', /^multiple overlapping subnet configuration is not supported$/, 1);
  usage('network create --subnet bad --gateway 10.0.0.1 n', /^invalid subnet: invalid CIDR address: bad$/, 1);
  usage('network create', /requires exactly 1 argument/);
});

test('network connect / disconnect', () => {
  assert.deepEqual(spec('network connect --alias a1 --alias a2,a3 --ip 10.213.9.9 n c'), {
    kind: 'network.connect',
    network: 'n',
    container: 'c',
    aliases: ['a1', 'a2', 'a3'],
    ip: '10.213.9.9',
    ip6: undefined,
    links: [],
    linkLocalIps: [],
    driverOpts: {},
  });
  const full = spec('network connect --ip6 fd00::9 --link web:db --link cache --link-local-ip 169.254.1.1,fe80::1 --driver-opt Foo=BaR --driver-opt " x = Y " n c');
  assert.deepEqual(full.kind === 'network.connect' && [full.ip6, full.links, full.linkLocalIps, full.driverOpts], [
    'fd00::9', ['web:db', 'cache'], ['169.254.1.1', 'fe80::1'], { Foo: 'BaR', x: 'Y' },
  ]);
  usage('network connect --link a:b:c n c', /^invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c\nSee 'docker network connect --help'\.$/);
  usage("network connect --link '' n c", /^invalid argument "" for "--link" flag: empty string specified for links\n/);
  usage('network connect --driver-opt x n c', /^invalid key\/value pair format in driver options$/, 1);
  assert.deepEqual(spec('network disconnect -f n c'), { kind: 'network.disconnect', network: 'n', container: 'c', force: true });
  usage('network connect n', /requires exactly 2 arguments/);
});

test('prune texts as docker prints them', () => {
  assert.equal(volumePruneText([], 0), 'Total reclaimed space: 0B\n');
  assert.equal(volumePruneText(['a', 'b'], 1234), 'Deleted Volumes:\na\nb\n\nTotal reclaimed space: 1.234kB\n');
  assert.equal(networkPruneText([]), '');
  assert.equal(networkPruneText(['n']), 'Deleted Networks:\nn\n\n');
});

test('rows: natural name order, labels, truncated IDs, Go time', () => {
  assert.ok(naturalLess('v2', 'v10'));
  assert.ok(!naturalLess('v10', 'v2'));
  assert.ok(naturalLess('a', 'ab'));
  const v = volumeRows([
    { Name: 'v10', Driver: 'local', Mountpoint: '/m', Scope: 'local', Labels: { b: '2', a: '1' } },
    { Name: 'v2', Driver: 'local', Mountpoint: '/m', Scope: 'local', Labels: null, UsageData: { Size: 2000, RefCount: 1 } },
  ]);
  assert.deepEqual(v.map((r) => [r.Name, r.Labels, r.Links, r.Size]), [
    ['v2', '', '1', '2kB'],
    ['v10', 'a=1,b=2', 'N/A', 'N/A'],
  ]);
  assert.equal(goTimeOfRfc3339('2026-11-29T06:26:21.844859800Z'), '2026-11-29 06:26:21.8448598 +0000 UTC');
  const n = networkRows([{ Id: 'a'.repeat(64), Name: 'n', Created: '2026-11-29T06:26:21Z', Driver: 'bridge', Scope: 'local', EnableIPv6: false, Internal: true }], {
    noTrunc: false,
  });
  assert.equal(n[0].ID, 'a'.repeat(12));
  assert.equal(n[0].Internal, 'true');
  assert.equal(n[0].CreatedAt, '2026-11-29 06:26:21 +0000 UTC');
});

test('inspect output: JSON array, [] for none, errors after, template errors, exit 64 on a bad template', () => {
  assert.deepEqual(inspectOutput([{ error: 'Error: No such volume: x' }], { htmlEscape: true }), {
    exitCode: 1,
    stdout: '[]\n',
    stderr: 'Error: No such volume: x\n',
    streamed: false,
    truncated: false,
    data: [],
  });
  const r = inspectOutput([{ value: { Name: 'a<b', Labels: {} } }], { htmlEscape: true });
  assert.equal(r.stdout, '[\n    {\n        "Name": "a\\u003cb",\n        "Labels": {}\n    }\n]\n');
  assert.equal(inspectOutput([{ value: { Name: 'a' } }, { error: 'E' }], { htmlEscape: false, format: '{{.Name}}' }).stdout, 'a\n');
  assert.equal(inspectOutput([{ error: 'E' }], { htmlEscape: false, format: '{{.Name}}' }).stdout, '\n');
  assert.throws(
    () => inspectOutput([], { htmlEscape: false, format: '{{' }),
    (e: unknown) => e instanceof UsageError && e.exitCode === 64 && /^template parsing error: /.test(e.message),
  );
});
