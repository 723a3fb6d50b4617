import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { harness } from '../support/harness.js';
import { docker, dockerCli, uniqueName } from '../support/env.js';
import { quoteWords } from '../../src/commands/tokenize.js';
import { parseCommand } from '../../src/commands/index.js';
import { UsageError } from '../../src/errors.js';

/**
 * The run/create flags of run-extras.ts on the real engine: the same flags through dockops and
 * through Debian's docker CLI (20.10) make containers whose Config, HostConfig and endpoint read
 * back the same, with the same refusals. The harness has no door, so the policy (refusals of host
 * namespaces, devices, security options: test/unit) is not in the way of comparing them here.
 * Containers and the network have unique names and are removed in `after`.
 */
let h: Awaited<ReturnType<typeof harness>>;
const made: string[] = [];
const net = uniqueName('flags-net');
const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-run-flags-'));
const name = (what: string) => {
  const n = uniqueName(what);
  made.push(n);
  return n;
};

before(async () => {
  h = await harness();
  // A user network with a subnet of its own, for --ip, --ip6 and --network-alias.
  const octet = 100 + Math.floor(Math.random() * 100);
  const r = dockerCli(['network', 'create', '--ipv6', '--subnet', `10.${octet}.${Math.floor(Math.random() * 250)}.0/24`, '--subnet', `fd00:${octet.toString(16)}:${Math.floor(Math.random() * 0xfff).toString(16)}::/64`, net]);
  assert.equal(r.status, 0, r.stderr);
});

after(async () => {
  const d = docker();
  // v: the anonymous volumes (`-v /data`) go with their containers.
  for (const n of made) await d.getContainer(n).remove({ force: true, v: true }).catch(() => undefined);
  await d.getNetwork(net).remove().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  await h.close();
});

const CONFIG = ['Healthcheck', 'StopSignal', 'StopTimeout', 'MacAddress', 'ExposedPorts', 'Labels', 'Domainname', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'OpenStdin'];
const HOST_CONFIG = [
  'ExtraHosts', 'Dns', 'DnsSearch', 'DnsOptions', 'Init', 'ReadonlyRootfs', 'ShmSize', 'Tmpfs', 'Ulimits', 'CapAdd', 'CapDrop', 'MemorySwappiness', 'OomKillDisable',
  'LogConfig', 'GroupAdd', 'Sysctls', 'PidMode', 'IpcMode', 'UTSMode', 'UsernsMode', 'CgroupnsMode', 'Devices', 'SecurityOpt', 'NetworkMode', 'Privileged',
  'OomScoreAdj', 'Runtime', 'Isolation', 'StorageOpt', 'VolumeDriver', 'CgroupParent', 'DeviceCgroupRules', 'BlkioWeightDevice', 'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'DeviceRequests',
];

/** The fields these flags set, as the engine reads them back (dockops' own label left out, ulimits in name order). */
async function readBack(n: string) {
  const i = (await docker().getContainer(n).inspect()) as unknown as {
    Config: Record<string, unknown>;
    HostConfig: Record<string, unknown>;
    NetworkSettings: { Networks: Record<string, { Aliases?: string[] | null; IPAMConfig?: unknown; MacAddress?: string }> };
    Mounts?: Array<{ Driver?: string; Destination?: string }>;
  };
  const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k] ?? null]));
  const config = pick(i.Config, CONFIG);
  config.Labels = Object.fromEntries(Object.entries((config.Labels ?? {}) as Record<string, string>).filter(([k]) => k !== 'dockops.job-id'));
  const host = pick(i.HostConfig, HOST_CONFIG);
  if (Array.isArray(host.Ulimits)) host.Ulimits = [...(host.Ulimits as Array<{ Name: string }>)].sort((a, b) => a.Name.localeCompare(b.Name));
  // The engine names a new container in its aliases (its short id): different for the twins by nature.
  const networks = Object.fromEntries(
    Object.entries(i.NetworkSettings.Networks ?? {}).map(([k, v]) => [k, { Aliases: (v.Aliases ?? []).filter((a) => !/^[0-9a-f]{12}$/.test(a)), IPAMConfig: v.IPAMConfig ?? null }]),
  );
  const volumes = (i.Mounts ?? []).map((m) => ({ Driver: m.Driver, Destination: m.Destination }));
  return { config, host, networks, volumes };
}

/**
 * `create FLAGS busybox true` through both; the same exit code and stderr, and the same read back.
 * `ours` may differ from the CLI's flags where dockops takes an uploaded file (artifact:ID).
 */
async function twins(flags: string[], ours: string[] = flags) {
  const mine = name('flags-ours');
  const theirs = name('flags-cli');
  const r = await h.run(quoteWords(['create', '--name', mine, ...ours, 'busybox:latest', 'true']));
  const cli = dockerCli(['create', '--name', theirs, ...flags, 'busybox:latest', 'true']);
  assert.deepEqual([r.result.exitCode, r.stderr], [cli.status, cli.stderr], flags.join(' '));
  if (cli.status !== 0) return undefined;
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  const [a, b] = [await readBack(mine), await readBack(theirs)];
  assert.deepEqual(a, b, flags.join(' '));
  return a;
}

test('create: DNS, hosts and exposed ports read back as docker sets them', async () => {
  const got = await twins([
    '--add-host', 'db:10.1.2.3', '--add-host', 'six:::1', '--add-host', 'gw:host-gateway',
    '--dns', '8.8.8.8', '--dns', '2001:4860:0:0::8888', '--dns-search', 'example.com.', '--dns-search', '.', '--dns-option', 'ndots:2', '--dns-opt', 'timeout:1',
    '--expose', '80', '--expose', '7000-7002/udp', '--expose', '9/', '-p', '8080',
  ]);
  assert.deepEqual(got?.host.Dns, ['8.8.8.8', '2001:4860::8888']);
  assert.deepEqual(Object.keys(got?.config.ExposedPorts as object).sort(), ['7000/udp', '7001/udp', '7002/udp', '80/tcp', '8080/tcp', '9/tcp']);
});

test('create: health checks, durations as Go reads them, CMD-SHELL', async () => {
  const got = await twins(['--health-cmd', 'wget -q -O /dev/null http://localhost/ || exit 1', '--health-interval', '1m30s', '--health-timeout', '1.5s', '--health-start-period', '250ms', '--health-retries', '0x3']);
  assert.deepEqual(got?.config.Healthcheck, { Test: ['CMD-SHELL', 'wget -q -O /dev/null http://localhost/ || exit 1'], Interval: 90e9, Timeout: 1.5e9, StartPeriod: 250e6, Retries: 3 });
  await twins(['--health-interval', '10s']);
  await twins(['--no-healthcheck']);
});

test('create: process, filesystem and limit flags read back as docker sets them', async () => {
  const got = await twins([
    '--init', '--read-only', '--stop-signal', 'SIGINT', '--stop-timeout', '7', '--shm-size', '128m', '--tmpfs', '/run:rw,size=1m', '--tmpfs', '/cache',
    '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=100', '--ulimit', 'core=-1', '--cap-drop', 'NET_RAW', '--cap-drop', 'mknod',
    '--memory-swappiness', '10', '--oom-kill-disable', '-m', '64m', '--group-add', '10', '--group-add', 'audio', '--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=1000000',
    '--log-driver', 'json-file', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', '--mac-address', '92:d0:c6:0a:29:33', '--platform', 'linux/amd64',
  ]);
  assert.deepEqual([got?.host.ShmSize, got?.host.Init, got?.host.ReadonlyRootfs, got?.config.StopTimeout], [128 * 1024 ** 2, true, true, 7]);
  await twins(['--init=false', '--oom-kill-disable=false', '--memory-swappiness', '0', '--log-driver', 'none']);
});

test('create: namespaces, devices and security options (held by the policy at the doors) read back as docker sets them', async () => {
  const peer = name('flags-peer');
  assert.equal(dockerCli(['create', '--name', peer, '--ipc', 'shareable', 'busybox:latest', 'true']).status, 0);
  await twins(['--pid', `container:${peer}`, '--ipc', `container:${peer}`, '--cgroupns', 'private', '--uts', 'host', '--userns', 'host']);
  await twins(['--pid', 'host', '--ipc', 'host', '--cgroupns', 'host']);
  await twins(['--ipc', 'none']);
  await twins(['--device', '/dev/null:/dev/mynull:r', '--device', '/dev/zero', '--security-opt', 'no-new-privileges', '--security-opt', 'apparmor=unconfined', '--security-opt', 'label:disable']);
});

test('create: --ip, --ip6 and --network-alias on a user network read back as docker sets them', async () => {
  const octets = ((await docker().getNetwork(net).inspect()).IPAM?.Config ?? []) as Array<{ Subnet: string }>;
  const v4 = octets.find((c) => c.Subnet.includes('.'))?.Subnet.replace(/0\/24$/, '');
  const v6 = octets.find((c) => c.Subnet.includes(':'))?.Subnet.replace(/\/64$/, '');
  // Two containers cannot have one address: each is given its own, and read back with it.
  const flags = (n: number) => ['--network', net, '--ip', `${v4}${n}`, '--ip6', `${v6}${n}`, '--network-alias', 'api', '--network-alias', 'api.internal'];
  const [mine, theirs] = [name('flags-ours'), name('flags-cli')];
  const r = await h.run(quoteWords(['create', '--name', mine, ...flags(11), 'busybox:latest', 'true']));
  const cli = dockerCli(['create', '--name', theirs, ...flags(10), 'busybox:latest', 'true']);
  assert.deepEqual([r.result.exitCode, r.stderr, cli.status, cli.stderr], [0, '', 0, '']);
  const [a, b] = [await readBack(mine), await readBack(theirs)];
  assert.deepEqual(a.networks[net], { Aliases: ['api', 'api.internal'], IPAMConfig: { IPv4Address: `${v4}11`, IPv6Address: `${v6}11` } });
  assert.deepEqual(b.networks[net], { Aliases: ['api', 'api.internal'], IPAMConfig: { IPv4Address: `${v4}10`, IPv6Address: `${v6}10` } });
  assert.deepEqual([a.config, a.host], [b.config, b.host]);
});

test('create: --label-file (uploaded) as docker reads a label file, -l winning over the file', async () => {
  const text = '# labels\nteam=core\n\n  tier=  not trimmed \nbare\nempty=\nowner=file\n';
  const file = path.join(dir, 'labels');
  writeFileSync(file, text);
  const art = await h.artifacts.write('labels', Readable.from([Buffer.from(text)]));
  const got = await twins(['--label-file', file, '-l', 'owner=flag'], ['--label-file', `artifact:${art.id}`, '-l', 'owner=flag']);
  assert.deepEqual(got?.config.Labels, { team: 'core', tier: '  not trimmed ', empty: '', owner: 'flag' });
  const bad = path.join(dir, 'bad');
  writeFileSync(bad, 'a b=1\n');
  const badArt = await h.artifacts.write('bad', Readable.from([Buffer.from('a b=1\n')]));
  await twins(['--label-file', bad], ['--label-file', `artifact:${badArt.id}`]);
  const reserved = await h.artifacts.write('reserved', Readable.from([Buffer.from('dockops.redeploy=x\n')]));
  const r = await h.run(`create --label-file artifact:${reserved.id} busybox:latest true`);
  assert.equal(r.result.exitCode, 125);
  assert.match(r.stderr, /the label prefix "dockops\." is reserved/);
});

test('create: engine refusals of these flags in docker\'s words and exit code', async () => {
  await twins(['--tmpfs', 'relative']);
  await twins(['--cap-drop', 'NOPE']);
  await twins(['--stop-signal', 'SIGNOPE']);
  await twins(['--log-opt', 'nope=1']);
  // Without --network, docker 20.10 drops --ip and --network-alias; on the default bridge the engine refuses them when the container starts.
  await twins(['--ip', '10.0.0.1', '--network-alias', 'x']);
  await twins(['--network', 'bridge', '--ip', '10.0.0.1']);
  await twins(['--sysctl', 'net.nope=1']);
});

test('run: the flags take effect inside the container', async () => {
  const n = name('flags-run');
  const r = await h.run(
    `run --name ${n} --add-host db:10.9.8.7 --dns 10.0.0.2 --dns-search corp.example --read-only --tmpfs /scratch:size=1m --ulimit nofile=123:456 --shm-size 8m --group-add 1234 --init busybox:latest sh -c 'grep -w db /etc/hosts; grep -v "^#" /etc/resolv.conf; ulimit -n; ulimit -Hn; touch /x 2>/dev/null || echo ro; touch /scratch/y && echo tmpfs; df -k /dev/shm | tail -1 | tr -s " " | cut -d" " -f2; id -G; cat /proc/1/comm'`,
  );
  assert.equal(r.result.exitCode, 0, r.stderr);
  assert.equal(r.stdout, '10.9.8.7\tdb\nsearch corp.example\nnameserver 10.0.0.2\n123\n456\nro\ntmpfs\n8192\n0 1234\ndocker-init\n');
  const hc = name('flags-health');
  const d = await h.run(`run -d --name ${hc} --health-cmd 'test -e /tmp/ok' --health-interval 200ms --health-retries 1 busybox:latest sh -c 'touch /tmp/ok; sleep 30'`);
  assert.equal(d.result.exitCode, 0, d.stderr);
  let status = '';
  for (let i = 0; i < 50 && status !== 'healthy'; i++) {
    await new Promise((res) => setTimeout(res, 200));
    status = ((await docker().getContainer(hc).inspect()).State as { Health?: { Status: string } }).Health?.Status ?? '';
  }
  assert.equal(status, 'healthy');
  const kill = await h.run(`kill ${hc}`);
  assert.equal(kill.result.exitCode, 0);
});

test('create/run: what the docker CLI refuses before calling the engine, dockops refuses in the same words (exit 125)', () => {
  const cases = [
    ['--pid', 'foo'], ['--pid', 'container:'], ['--pid', 'container:a:b'], ['--pid', 'HOST'], ['--cgroupns', 'HOST'], ['--uts', 'foo'], ['--userns', 'foo'], ['--cgroupns', 'foo'],
    ['--add-host', 'foo'], ['--add-host', ':1.2.3.4'], ['--add-host', 'foo:bar'], ['--dns', 'foo'], ['--dns', '1.2.3'], ['--dns-search', '-bad-'], ['--dns-search', '123'],
    ['--expose', 'abc'], ['--expose', '5-3'], ['--expose', '80:80'], ['--expose', '70000'], ['--expose', '/tcp'],
    ['--health-interval', '1'], ['--health-interval', '1x'], ['--health-interval', 'x'], ['--health-interval', '-1s'], ['--health-timeout', '-1ms'], ['--health-retries', '-1'],
    ['--health-start-period', '-2m'], ['--health-retries', 'x'], ['--no-healthcheck', '--health-cmd', 'true'], ['--no-healthcheck', '--health-retries', '2'],
    ['--stop-timeout', 'x'], ['--shm-size', 'x'], ['--ulimit', 'foo'], ['--ulimit', 'nofile=2:1'], ['--ulimit', 'nofile=x'], ['--ulimit', 'as=1'], ['--ulimit', 'nofile=1:2:3'],
    ['--memory-swappiness', '200'], ['--memory-swappiness', '-2'], ['--oom-kill-disable=x'], ['--init=x'], ['--read-only=2'],
    ['--sysctl', 'foo'], ['--sysctl', 'kernel.hostname=x'], ['--mac-address', 'foo'], ['--mac-address', '92:d0:c6:0a:29'],
    ['--log-driver', 'none', '--log-opt', 'max-size=1m'], ['--network', 'bridge', '--network-alias', 'x'], ['--network', 'host', '--network-alias', 'x'],
    ['--device', ''], ['--device', '/dev/null:rel'], ['--device', '/dev/null:/dev/x:q'], ['--device', 'a:b:c:d'], ['--security-opt', 'foo'],
  ];
  for (const flags of cases) {
    const cli = dockerCli(['create', ...flags, 'busybox:latest', 'true']);
    let message = '';
    try {
      parseCommand(quoteWords(['create', ...flags, 'busybox:latest', 'true']));
    } catch (err) {
      assert.ok(err instanceof UsageError, String(err));
      assert.equal(err.exitCode, 125);
      message = `${err.message}\n`;
    }
    assert.deepEqual([message, 125], [cli.stderr, cli.status], flags.join(' '));
  }
});

test('--pid/--ipc container:X where X has the host\'s namespace is refused by the worker (closed policy), through a chain too; nothing is created', async () => {
  // Made on the engine directly (dockops's policy would refuse --pid host): never started.
  const hostPid = name('flags-hostpid');
  await docker().createContainer({ name: hostPid, Image: 'busybox:latest', Cmd: ['true'], HostConfig: { PidMode: 'host', IpcMode: 'host' } });
  const middle = name('flags-middle');
  await docker().createContainer({ name: middle, Image: 'busybox:latest', Cmd: ['true'], HostConfig: { PidMode: `container:${hostPid}` } });
  const joiner = name('flags-joiner');
  const r = await h.run(`run --name ${joiner} --pid container:${hostPid} busybox:latest ps`);
  assert.equal(r.result.exitCode, 125);
  assert.equal(r.stderr.trim(), `refused by policy: --pid container:${hostPid} shares a namespace outside the container: ${hostPid} has --pid host (set DOCKOPS_ALLOW_HOST_NAMESPACES=true to allow it)`);
  const chain = await h.run(`create --name ${joiner} --pid container:${middle} busybox:latest`);
  assert.equal(chain.result.exitCode, 125);
  assert.match(chain.stderr, new RegExp(`--pid container:${middle} shares a namespace outside the container: ${hostPid} has --pid host \\(reached through ${middle}\\)`));
  const ipc = await h.run(`create --name ${joiner} --ipc container:${hostPid} busybox:latest`);
  assert.match(ipc.stderr, /refused by policy: --ipc container:.* has --ipc host/);
  assert.equal((await docker().listContainers({ all: true, filters: { name: [joiner] } })).length, 0, 'no container was created');
});

test('create: --domainname, --oom-score-adj, --runtime, --isolation, --volume-driver, --net, -a, --disable-content-trust (default true: =false would have docker ask a notary server) read back as docker sets them', async () => {
  const got = await twins(['--domainname', 'corp.example', '--oom-score-adj', '-500', '--runtime', 'runc', '--isolation', 'default', '--disable-content-trust', '-a', 'STDOUT', '-a', 'stdin']);
  assert.deepEqual([got?.config.Domainname, got?.host.OomScoreAdj, got?.host.Runtime, got?.config.AttachStdout, got?.config.AttachStderr], ['corp.example', -500, 'runc', true, false]);
  const vol = await twins(['--volume-driver', 'local', '-v', '/data']);
  assert.deepEqual([vol?.host.VolumeDriver, vol?.volumes], ['local', [{ Driver: 'local', Destination: '/data' }]]);
  const viaNet = await twins(['--net', net, '--network-alias', 'old-name']);
  assert.deepEqual([viaNet?.host.NetworkMode, viaNet?.networks[net]?.Aliases], [net, ['old-name']]);
  // The engine's refusals, in its words, through both.
  await twins(['--oom-score-adj', '2000']);
  await twins(['--oom-score-adj', '-1001']);
  await twins(['--isolation', 'hyperv']);
  await twins(['--runtime', 'nope']);
  await twins(['--storage-opt', 'size=1G']);
});

test('create: --link-local-ip goes to the --network endpoint as docker sets it', async () => {
  const got = await twins(['--network', net, '--link-local-ip', '169.254.10.10', '--link-local-ip', 'fe80::10']);
  assert.deepEqual(got?.networks[net]?.IPAMConfig, { LinkLocalIPs: ['169.254.10.10', 'fe80::10'] });
  // Without --network docker 20.10 drops it.
  await twins(['--link-local-ip', '169.254.10.11']);
});

test('create: device I/O limits, weights, cgroup rules, --gpus and --cgroup-parent (held by the policy at the doors) read back as docker sets them', async () => {
  const got = await twins([
    '--device-read-bps', '/dev/sda:1mb', '--device-write-bps', '/dev/sda:2048', '--device-read-iops', '/dev/sda:100', '--device-write-iops', '/dev/sdb:7',
    '--blkio-weight-device', '/dev/sda:300', '--device-cgroup-rule', 'c 1:3 mr', '--device-cgroup-rule', 'a *:* rwm',
  ]);
  assert.deepEqual(got?.host.BlkioDeviceReadBps, [{ Path: '/dev/sda', Rate: 1024 ** 2 }]);
  assert.deepEqual(got?.host.DeviceCgroupRules, ['c 1:3 mr', 'a *:* rwm']);
  // No GPU here: the engine keeps the request at create (it would refuse to start it).
  const gpus = await twins(['--gpus', 'all', '--gpus', '"device=0,1",driver=nvidia', '--gpus', '"capabilities=compute,utility",count=2,options=a=b']);
  assert.deepEqual(gpus?.host.DeviceRequests, [
    { Driver: '', Count: -1, DeviceIDs: null, Capabilities: [['gpu']], Options: {} },
    { Driver: 'nvidia', Count: 0, DeviceIDs: ['0', '1'], Capabilities: [['gpu']], Options: {} },
    { Driver: '', Count: 2, DeviceIDs: null, Capabilities: [['compute', 'utility', 'gpu']], Options: { a: 'b' } },
  ]);
  const parent = await twins(['--cgroup-parent', 'dockops-test.slice']);
  assert.equal(parent?.host.CgroupParent, 'dockops-test.slice');
});

test('run: -a names the streams shown; --gpus is refused by the engine when the container starts, as with docker', async () => {
  const r = await h.run(`run --rm -a stderr busybox:latest sh -c 'echo out; echo err >&2'`);
  assert.deepEqual([r.result.exitCode, r.stdout, r.stderr], [0, '', 'err\n']);
  const o = await h.run(`run --rm --attach STDOUT busybox:latest sh -c 'echo out; echo err >&2'`);
  assert.deepEqual([o.result.exitCode, o.stdout, o.stderr], [0, 'out\n', '']);
  const none = await h.run(`run --rm -a stdin busybox:latest sh -c 'echo out; exit 3'`);
  assert.deepEqual([none.result.exitCode, none.stdout], [3, '']);
  const [mine, theirs] = [name('flags-gpu-ours'), name('flags-gpu-cli')];
  const g = await h.run(`run --name ${mine} --gpus all busybox:latest true`);
  const cli = dockerCli(['run', '--name', theirs, '--gpus', 'all', 'busybox:latest', 'true']);
  // The docker CLI adds a line of its own logging after the error ("error waiting for container: context canceled").
  assert.equal(g.result.exitCode, cli.status);
  assert.equal(g.stderr, cli.stderr.split('\n')[0] + '\n');
  assert.match(g.stderr, /^docker: Error response from daemon: could not select device driver "" with capabilities: \[\[gpu\]\]\.\n$/);
});
