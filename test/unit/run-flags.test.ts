import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobSpec, parseCommand } from '../../src/commands/index.js';
import { createOptions } from '../../src/commands/container/run-options.js';
import { parseLabelFile } from '../../src/commands/container/run.js';
import { canonicalIp, goDurationNs, isMac } from '../../src/commands/container/go-values.js';
import { checkPolicy } from '../../src/policy/index.js';
import { specTargets } from '../../src/policy/roles.js';
import { DockerError, PolicyError, UsageError } from '../../src/errors.js';

const spec = (cmd: string) => {
  const o = parseCommand(cmd);
  assert.equal(o.type, 'spec', cmd);
  const s = (o as { spec: JobSpec }).spec;
  assert.ok(s.kind === 'container.run' || s.kind === 'container.create');
  return s;
};
const body = (cmd: string) => createOptions(spec(cmd), 'job', false) as Record<string, unknown> & { HostConfig: Record<string, unknown> };
const usage = (cmd: string, message: string) =>
  assert.throws(
    () => parseCommand(cmd),
    (e: unknown) => e instanceof UsageError && e.exitCode === 125 && e.message === message,
    cmd,
  );

test('run/create: the flags land in the Engine API fields docker sets', () => {
  const b = body(
    "run --add-host db:10.0.0.9 --dns ::0001 --dns-search example.com. --dns-option ndots:2 --dns-opt rotate --expose 80 --expose 90-91/udp --init --read-only --stop-signal SIGINT --stop-timeout 0x5 --shm-size 1g --tmpfs /run:size=1m --tmpfs /t --ulimit nofile=1:2 --ulimit nofile=3 --ulimit core=-1 --cap-drop ALL --memory-swappiness 0 --oom-kill-disable --log-driver local --log-opt max-size=1m --log-opt bare --group-add 10 --sysctl net.core.somaxconn=1024 --sysctl kernel.sem=1=2 --mac-address 92:d0:c6:0a:29:33 --pid container:db --ipc shareable --uts host --userns host --cgroupns private --device /dev/null:/dev/n:r --security-opt no-new-privileges busybox",
  );
  assert.deepEqual(b.ExposedPorts, { '80/tcp': {}, '90/udp': {}, '91/udp': {} });
  assert.deepEqual([b.StopSignal, b.StopTimeout, b.MacAddress, b.Healthcheck], ['SIGINT', 5, '92:d0:c6:0a:29:33', undefined]);
  const hc = b.HostConfig;
  assert.deepEqual(
    [hc.ExtraHosts, hc.Dns, hc.DnsSearch, hc.DnsOptions, hc.Init, hc.ReadonlyRootfs, hc.ShmSize, hc.Tmpfs, hc.CapDrop, hc.MemorySwappiness, hc.OomKillDisable],
    [['db:10.0.0.9'], ['::1'], ['example.com'], ['ndots:2', 'rotate'], true, true, 1024 ** 3, { '/run': 'size=1m', '/t': '' }, ['ALL'], 0, true],
  );
  // One limit a name, the later winning; hard defaults to soft.
  assert.deepEqual(hc.Ulimits, [{ Name: 'nofile', Soft: 3, Hard: 3 }, { Name: 'core', Soft: -1, Hard: -1 }]);
  assert.deepEqual(hc.LogConfig, { Type: 'local', Config: { 'max-size': '1m', bare: '' } });
  assert.deepEqual([hc.GroupAdd, hc.Sysctls], [['10'], { 'net.core.somaxconn': '1024', 'kernel.sem': '1=2' }]);
  assert.deepEqual([hc.PidMode, hc.IpcMode, hc.UTSMode, hc.UsernsMode, hc.CgroupnsMode], ['container:db', 'shareable', 'host', 'host', 'private']);
  assert.deepEqual(hc.Devices, [{ PathOnHost: '/dev/null', PathInContainer: '/dev/n', CgroupPermissions: 'r' }]);
  assert.deepEqual(hc.SecurityOpt, ['no-new-privileges']);
  // Nothing given: the engine's defaults, with the empty lists the docker CLI sends.
  const plain = body('create busybox');
  for (const k of ['Init', 'ReadonlyRootfs', 'ShmSize', 'Ulimits', 'MemorySwappiness', 'OomKillDisable', 'LogConfig', 'PidMode', 'SecurityOpt']) assert.equal(k in plain.HostConfig, false, k);
  assert.deepEqual([plain.HostConfig.Dns, plain.HostConfig.DnsSearch, plain.HostConfig.DnsOptions, plain.HostConfig.Devices], [[], [], [], []]);
  assert.equal(plain.NetworkingConfig, undefined);
  // A spec queued before these flags existed still parses (extras default to none).
  const { extras: _drop, ...old } = spec('create busybox');
  const again = JobSpec.parse(old);
  assert.deepEqual(again.kind === 'container.create' && again.extras, {});
});

test('run/create: health checks as docker makes them (CMD-SHELL, Go durations in ns)', () => {
  const b = body("run --health-cmd 'curl -f http://localhost/ || exit 1' --health-interval 1m30s --health-timeout .5s --health-start-period 1h --health-retries 3 busybox");
  assert.deepEqual(b.Healthcheck, { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], Interval: 90e9, Timeout: 5e8, StartPeriod: 3600e9, Retries: 3 });
  // Only an interval: the image's test is kept (Test left out).
  assert.deepEqual(body('create --health-interval 10s busybox').Healthcheck, { Test: undefined, Interval: 10e9, Timeout: 0, StartPeriod: 0, Retries: 0 });
  assert.deepEqual(body('create --no-healthcheck busybox').Healthcheck, { Test: ['NONE'] });
  assert.equal(body('create --health-cmd "" busybox').Healthcheck, undefined);
  assert.deepEqual(
    ['0', '1ns', '1.5h', '2h45m0.5s', '-1.5s', '+3us', '1µs'].map(goDurationNs),
    [0, 1, 5400e9, 9900.5e9, -1.5e9, 3000, 1000],
  );
  assert.deepEqual(['', '1', '1x', 'x', '.s', '1.2.3s'].map(goDurationNs), [
    'time: invalid duration ""', 'time: missing unit in duration "1"', 'time: unknown unit "x" in duration "1x"', 'time: invalid duration "x"',
    'time: invalid duration ".s"', 'time: missing unit in duration "1.2.3s"',
  ]);
});

test('run/create: --ip, --ip6, --network-alias go to the endpoint on --network, as docker 20.10 does', () => {
  assert.deepEqual(body('run --network appnet --ip 172.30.0.9 --ip6 2001:db8::9 --network-alias api --network-alias web busybox').NetworkingConfig, {
    EndpointsConfig: { appnet: { Aliases: ['api', 'web'], IPAMConfig: { IPv4Address: '172.30.0.9', IPv6Address: '2001:db8::9' } } },
  });
  // Without --network docker 20.10 sends no endpoint: the flags are dropped.
  assert.equal(body('run --ip 172.30.0.9 --network-alias api busybox').NetworkingConfig, undefined);
  assert.equal(spec('run --platform linux/amd64 busybox').extras.platform, 'linux/amd64');
  assert.equal(body('run --platform linux/amd64 busybox').platform, 'linux/amd64');
});

test("run/create: bad values refused in docker 20.10's words (exit 125)", () => {
  const help = (v: string) => `\nSee 'docker ${v} --help'.`;
  usage('run --pid foo busybox', `docker: --pid: invalid PID mode.${help('run')}`);
  usage('create --pid container: busybox', `docker: --pid: invalid PID mode.${help('create')}`);
  usage('run --uts container:x busybox', `docker: --uts: invalid UTS mode.${help('run')}`);
  usage('run --userns private busybox', `docker: --userns: invalid USER mode.${help('run')}`);
  usage('run --cgroupns foo busybox', `docker: --cgroupns: invalid CGROUP mode.${help('run')}`);
  usage('run --add-host foo busybox', `invalid argument "foo" for "--add-host" flag: bad format for add-host: "foo"${help('run')}`);
  usage('run --add-host foo:bar busybox', `invalid argument "foo:bar" for "--add-host" flag: invalid IP address in add-host: "bar"${help('run')}`);
  usage('run --dns 1.2.3 busybox', `invalid argument "1.2.3" for "--dns" flag: 1.2.3 is not an ip address${help('run')}`);
  usage('run --dns-search 123 busybox', `invalid argument "123" for "--dns-search" flag: 123 is not a valid domain${help('run')}`);
  usage('run --expose abc busybox', `docker: invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": invalid syntax.${help('run')}`);
  usage('run --expose 5-3 busybox', `docker: invalid range format for --expose: 5-3, error: Invalid range specified for the Port: 5-3.${help('run')}`);
  usage('run --expose 1:2 busybox', `docker: invalid port format for --expose: 1:2.${help('run')}`);
  usage('run --health-interval 1 busybox', `invalid argument "1" for "--health-interval" flag: time: missing unit in duration "1"${help('run')}`);
  usage('run --health-timeout -1s busybox', `docker: --health-timeout cannot be negative.${help('run')}`);
  usage('run --health-retries x busybox', `invalid argument "x" for "--health-retries" flag: strconv.ParseInt: parsing "x": invalid syntax${help('run')}`);
  usage('run --no-healthcheck --health-cmd true busybox', `docker: --no-healthcheck conflicts with --health-* options.${help('run')}`);
  usage('run --stop-timeout 1.5 busybox', `invalid argument "1.5" for "--stop-timeout" flag: strconv.ParseInt: parsing "1.5": invalid syntax${help('run')}`);
  usage('run --shm-size x busybox', `invalid argument "x" for "--shm-size" flag: invalid size: 'x'${help('run')}`);
  usage('run --ulimit foo busybox', `invalid argument "foo" for "--ulimit" flag: invalid ulimit argument: foo${help('run')}`);
  usage('run --ulimit as=1 busybox', `invalid argument "as=1" for "--ulimit" flag: invalid ulimit type: as${help('run')}`);
  usage('run --ulimit nofile=2:1 busybox', `invalid argument "nofile=2:1" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 2 > 1${help('run')}`);
  usage('run --memory-swappiness 101 busybox', `docker: invalid value: 101. Valid memory swappiness range is 0-100.${help('run')}`);
  usage('run --oom-kill-disable=maybe busybox', `invalid argument "maybe" for "--oom-kill-disable" flag: strconv.ParseBool: parsing "maybe": invalid syntax${help('run')}`);
  usage('run --sysctl kernel.hostname=x busybox', `invalid argument "kernel.hostname=x" for "--sysctl" flag: sysctl 'kernel.hostname=x' is not whitelisted${help('run')}`);
  usage('run --mac-address 1:2 busybox', `docker: 1:2 is not a valid mac address.${help('run')}`);
  usage('run --log-driver none --log-opt a=b busybox', `docker: invalid logging opts for driver none.${help('run')}`);
  usage('run --network bridge --network-alias a busybox', `docker: network-scoped aliases are only supported for user-defined networks.${help('run')}`);
  usage('run --device /dev/null:rel busybox', `docker: rel is not an absolute path.${help('run')}`);
  usage('run --device /dev/null:/x:q busybox', `docker: bad mode specified: q.${help('run')}`);
  usage('run --security-opt foo busybox', `docker: Invalid --security-opt: "foo".${help('run')}`);
  // A seccomp profile path would be read on the dockops host: refused, saying so.
  assert.throws(() => parseCommand('run --security-opt seccomp=/etc/profile.json busybox'), /dockops does not read seccomp profiles/);
  usage('run --label-file labels.txt busybox', `--label-file labels.txt: dockops reads uploaded files only: give artifact:ID (\`dockops docker run --label-file FILE …\` uploads it for you)${help('run')}`);
  // Unknown flags are still refused as docker does.
  usage('run --no-such-flag busybox', `unknown flag: --no-such-flag${help('run')}`);
  usage('create --health busybox', `unknown flag: --health${help('create')}`);
});

test('go values: net.ParseIP canonical text, net.ParseMAC forms', () => {
  assert.deepEqual(
    ['10.0.0.1', '::1', '2001:DB8:0:0:0:0:0:1', '1:0:0:2:0:0:0:3', '::ffff:10.1.2.3', 'fe80::1%eth0', '010.0.0.1', '1::2::3', '256.0.0.1'].map(canonicalIp),
    ['10.0.0.1', '::1', '2001:db8::1', '1:0:0:2::3', '10.1.2.3', undefined, undefined, undefined, undefined],
  );
  assert.deepEqual(['92:d0:c6:0a:29:33', '92-D0-C6-0A-29-33', '92d0.c60a.2933', '92:d0:c6:0a:29', 'zz:d0:c6:0a:29:33'].map(isMac), [true, true, true, false, false]);
});

test('--label-file: docker\'s format, read by the worker', () => {
  assert.deepEqual(parseLabelFile({ name: 'l', text: '\uFEFF# c\na=1\n\n  b= two \nbare\nc=\n' }), ['a=1', 'b= two ', 'c=']);
  assert.throws(() => parseLabelFile({ name: 'l', text: 'a b=1\n' }), (e: unknown) => e instanceof DockerError && e.exitCode === 125 && /variable 'a b' contains whitespaces/.test(e.message));
});

test('policy: host namespaces, devices and security options refused unless configured, naming the setting', () => {
  const closed = { allowPrivileged: false, allowHostNamespaces: false, allowCapAdd: false, bindAllowlist: [] };
  const refused = (cmd: string, message: string) =>
    assert.throws(() => checkPolicy(spec(cmd), closed), (e: unknown) => e instanceof PolicyError && e.exitCode === 125 && e.message === message, cmd);
  for (const flag of ['pid', 'ipc', 'uts', 'userns', 'cgroupns']) {
    refused(`run --${flag} host busybox`, `refused by policy: --${flag} host shares a namespace outside the container (set DOCKOPS_ALLOW_HOST_NAMESPACES=true to allow it)`);
    refused(`create --${flag}=host busybox`, `refused by policy: --${flag} host shares a namespace outside the container (set DOCKOPS_ALLOW_HOST_NAMESPACES=true to allow it)`);
    checkPolicy(spec(`run --${flag} host busybox`), { ...closed, allowHostNamespaces: true });
    if (flag !== 'cgroupns') refused(`run --${flag} host:x busybox`, `refused by policy: --${flag} host:x shares a namespace outside the container (set DOCKOPS_ALLOW_HOST_NAMESPACES=true to allow it)`);
  }
  refused('run --device /dev/sda --device /dev/fuse busybox', 'refused by policy: --device /dev/sda,/dev/fuse gives the container a device of the host (set DOCKOPS_ALLOW_DEVICES=true to allow it)');
  checkPolicy(spec('run --device /dev/fuse busybox'), { ...closed, allowDevices: true });
  refused('run --security-opt seccomp=unconfined busybox', "refused by policy: --security-opt seccomp=unconfined changes the container's confinement (set DOCKOPS_ALLOW_SECURITY_OPT=true to allow it)");
  refused('run --security-opt no-new-privileges --security-opt apparmor:unconfined busybox', "refused by policy: --security-opt apparmor:unconfined changes the container's confinement (set DOCKOPS_ALLOW_SECURITY_OPT=true to allow it)");
  refused('run --security-opt label=disable busybox', "refused by policy: --security-opt label=disable changes the container's confinement (set DOCKOPS_ALLOW_SECURITY_OPT=true to allow it)");
  checkPolicy(spec('run --security-opt systempaths=unconfined busybox'), { ...closed, allowSecurityOpt: true });
  // Log drivers that ship logs off the host: only those DOCKOPS_LOG_DRIVERS names.
  refused('run --log-driver gelf --log-opt gelf-address=udp://10.0.0.1:12201 busybox', "refused by policy: --log-driver gelf is not one of the allowed log drivers (json-file, local, journald, none): it can send the container's logs off this host with the engine's own settings (add it to DOCKOPS_LOG_DRIVERS to allow it)");
  assert.throws(() => checkPolicy(spec('run --log-driver awslogs busybox'), { ...closed, logDrivers: ['json-file', 'gelf'] }), /--log-driver awslogs is not one of the allowed log drivers \(json-file, gelf\)/);
  checkPolicy(spec('run --log-driver gelf busybox'), { ...closed, logDrivers: ['json-file', 'gelf'] });
  for (const d of ['json-file', 'local', 'journald', 'none']) checkPolicy(spec(`run --log-driver ${d} busybox`), closed);
  checkPolicy(spec('run --log-opt max-size=1m busybox'), closed);
  // Only takes privileges away, and what stays in the container's own namespaces: allowed.
  for (const ok of ['--security-opt no-new-privileges', '--security-opt no-new-privileges:true', '--pid container:db', '--ipc shareable', '--ipc private', '--cgroupns private', '--cap-drop ALL', '--sysctl net.ipv4.ip_forward=1', '--ulimit nofile=10']) {
    checkPolicy(spec(`run ${ok} busybox`), closed);
  }
});

test('grants: --pid/--ipc/--network container:X act on X', () => {
  assert.deepEqual(specTargets(spec('run --name mine --pid container:db --ipc container:cache --network container:proxy busybox')).containers, ['mine', 'db', 'cache', 'proxy']);
  assert.deepEqual(specTargets(spec('run --pid host busybox')).containers, []);
});

test('run/create: pass-through flags (--domainname, --oom-score-adj, --runtime, --isolation, --storage-opt, --volume-driver, --link-local-ip, --net) land where docker puts them', () => {
  const b = body(
    'create --domainname corp.example --oom-score-adj -500 --runtime runc --isolation default --storage-opt size=1G --storage-opt a=b=c --volume-driver local --net appnet --ip 10.1.0.9 --link-local-ip 169.254.1.1 --link-local-ip fe80::1 --disable-content-trust=false busybox',
  );
  assert.equal(b.Domainname, 'corp.example');
  const hc = b.HostConfig;
  assert.deepEqual([hc.OomScoreAdj, hc.Runtime, hc.Isolation, hc.StorageOpt, hc.VolumeDriver, hc.NetworkMode], [-500, 'runc', 'default', { size: '1G', a: 'b=c' }, 'local', 'appnet']);
  assert.deepEqual(b.NetworkingConfig, { EndpointsConfig: { appnet: { IPAMConfig: { IPv4Address: '10.1.0.9', IPv6Address: '', LinkLocalIPs: ['169.254.1.1', 'fe80::1'] } } } });
  // Without --network (or --net) docker 20.10 drops --link-local-ip as it drops --ip.
  assert.equal(body('create --link-local-ip 169.254.1.1 busybox').NetworkingConfig, undefined);
  // Not given: not sent (the engine's defaults).
  const plain = body('create busybox');
  assert.deepEqual(plain.HostConfig.BlkioWeightDevice, []);
  for (const k of ['OomScoreAdj', 'Runtime', 'Isolation', 'StorageOpt', 'VolumeDriver', 'CgroupParent', 'DeviceCgroupRules', 'BlkioDeviceReadBps', 'DeviceRequests']) {
    assert.equal(k in plain.HostConfig, false, k);
  }
  assert.equal('Domainname' in plain, false);
  // --net is hidden, as in docker's help; --sig-proxy/--detach-keys say they do nothing here.
  const shown = parseCommand('run --help');
  assert.equal(shown.type, 'help');
  const text = (shown as { text: string }).text;
  assert.doesNotMatch(text, /--net /);
  assert.match(text, /--sig-proxy .*no effect/);
  assert.match(text, /--detach-keys .*no effect/);
  assert.equal(spec('run --sig-proxy=false --detach-keys ctrl-x busybox').kind, 'container.run');
  const help = (v: string) => `\nSee 'docker ${v} --help'.`;
  usage('run --oom-score-adj x busybox', `invalid argument "x" for "--oom-score-adj" flag: strconv.ParseInt: parsing "x": invalid syntax${help('run')}`);
  usage('create --storage-opt foo busybox', `docker: invalid storage option.${help('create')}`);
  usage('run --sig-proxy=x busybox', `invalid argument "x" for "--sig-proxy" flag: strconv.ParseBool: parsing "x": invalid syntax${help('run')}`);
  usage('create --sig-proxy busybox', `unknown flag: --sig-proxy${help('create')}`);
  usage('create --detach-keys x busybox', `unknown flag: --detach-keys${help('create')}`);
  usage('run --disable-content-trust=x busybox', `invalid argument "x" for "--disable-content-trust" flag: strconv.ParseBool: parsing "x": invalid syntax${help('run')}`);
  usage('run --net a --network b busybox', `--net a and --network b name two networks: dockops connects one at create (add more with \`docker network connect\`)${help('run')}`);
  assert.equal(body('run --net host --network host busybox').HostConfig.NetworkMode, 'host');
});

test('run/create: device I/O limits, weights and cgroup rules read with docker\'s rules and words', () => {
  const hc = body(
    "create --device-read-bps /dev/sda:1mb --device-write-bps /dev/sdb:1.5k --device-write-bps /dev/sdb:10 --device-read-iops /dev/sda:1000 --device-write-iops /dev/nvme0n1:7 --blkio-weight-device /dev/sda:300 --blkio-weight-device /dev/sdc:0 --device-cgroup-rule 'c 1:3 mr' --device-cgroup-rule 'a *:* rwm' busybox",
  ).HostConfig;
  assert.deepEqual(hc.BlkioDeviceReadBps, [{ Path: '/dev/sda', Rate: 1024 ** 2 }]);
  assert.deepEqual(hc.BlkioDeviceWriteBps, [{ Path: '/dev/sdb', Rate: 1536 }, { Path: '/dev/sdb', Rate: 10 }]);
  assert.deepEqual([hc.BlkioDeviceReadIOps, hc.BlkioDeviceWriteIOps], [[{ Path: '/dev/sda', Rate: 1000 }], [{ Path: '/dev/nvme0n1', Rate: 7 }]]);
  assert.deepEqual(hc.BlkioWeightDevice, [{ Path: '/dev/sda', Weight: 300 }, { Path: '/dev/sdc', Weight: 0 }]);
  assert.deepEqual(hc.DeviceCgroupRules, ['c 1:3 mr', 'a *:* rwm']);
  const help = (v: string) => `\nSee 'docker ${v} --help'.`;
  const bps = 'The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb';
  usage('run --device-read-bps /dev/sda busybox', `invalid argument "/dev/sda" for "--device-read-bps" flag: bad format: /dev/sda${help('run')}`);
  usage('run --device-read-bps sda:1mb busybox', `invalid argument "sda:1mb" for "--device-read-bps" flag: bad format for device path: sda:1mb${help('run')}`);
  usage('run --device-write-bps /dev/sda:-1 busybox', `invalid argument "/dev/sda:-1" for "--device-write-bps" flag: invalid rate for device: /dev/sda:-1. ${bps}${help('run')}`);
  usage('run --device-read-iops /dev/sda:1mb busybox', `invalid argument "/dev/sda:1mb" for "--device-read-iops" flag: invalid rate for device: /dev/sda:1mb. The correct format is <device-path>:<number>. Number must be a positive integer${help('run')}`);
  usage('create --device-write-iops sda:1 busybox', `invalid argument "sda:1" for "--device-write-iops" flag: bad format for device path: sda:1${help('create')}`);
  usage('run --blkio-weight-device /dev/sda:5 busybox', `invalid argument "/dev/sda:5" for "--blkio-weight-device" flag: invalid weight for device: /dev/sda:5${help('run')}`);
  usage('run --blkio-weight-device /dev/sda:1001 busybox', `invalid argument "/dev/sda:1001" for "--blkio-weight-device" flag: invalid weight for device: /dev/sda:1001${help('run')}`);
  usage('run --blkio-weight-device /dev/sda busybox', `invalid argument "/dev/sda" for "--blkio-weight-device" flag: bad format: /dev/sda${help('run')}`);
  usage("run --device-cgroup-rule 'c 1:3 q' busybox", `invalid argument "c 1:3 q" for "--device-cgroup-rule" flag: invalid device cgroup format 'c 1:3 q'${help('run')}`);
  usage("run --device-cgroup-rule 'c 1:3 rwmr' busybox", `invalid argument "c 1:3 rwmr" for "--device-cgroup-rule" flag: invalid device cgroup format 'c 1:3 rwmr'${help('run')}`);
  // docker 20.10's update has --blkio-weight only: none of these.
  usage('update --device-read-bps /dev/sda:1mb c1', `unknown flag: --device-read-bps${help('update')}`);
});

test('run/create: --gpus in docker\'s CSV syntax becomes DeviceRequests', () => {
  const gpus = (flags: string) => body(`create ${flags} busybox`).HostConfig.DeviceRequests;
  const req = (o: object) => ({ Driver: '', Count: 1, DeviceIDs: null, Capabilities: [['gpu']], Options: {}, ...o });
  assert.deepEqual(gpus('--gpus all'), [req({ Count: -1 })]);
  assert.deepEqual(gpus('--gpus 2 --gpus count=all'), [req({ Count: 2 }), req({ Count: -1 })]);
  assert.deepEqual(gpus('--gpus driver=nvidia,count=all'), [req({ Driver: 'nvidia', Count: -1 })]);
  assert.deepEqual(gpus(`--gpus '"device=0,1",driver=nvidia'`), [req({ Driver: 'nvidia', Count: 0, DeviceIDs: ['0', '1'] })]);
  // Unquoted, the second device is a field of its own: the count.
  assert.deepEqual(gpus('--gpus device=0,1'), [req({ Count: 1, DeviceIDs: ['0'] })]);
  assert.deepEqual(gpus(`--gpus '"capabilities=compute,utility",options=x'`), [req({ Capabilities: [['compute', 'utility', 'gpu']], Options: { x: '' } })]);
  assert.deepEqual(gpus('--gpus count=-1'), [req({ Count: -1 })]);
  const help = "\nSee 'docker create --help'.";
  usage('create --gpus foo busybox', `invalid argument "foo" for "--gpus" flag: count must be an integer: strconv.Atoi: parsing "foo": invalid syntax${help}`);
  usage('create --gpus x=1 busybox', `invalid argument "x=1" for "--gpus" flag: unexpected key 'x' in 'x=1'${help}`);
  usage('create --gpus count=1,count=2 busybox', `invalid argument "count=1,count=2" for "--gpus" flag: gpu request key 'count' can be specified only once${help}`);
  usage(`create --gpus 'a"b' busybox`, `invalid argument "a\\"b" for "--gpus" flag: parse error on line 1, column 2: bare " in non-quoted-field${help}`);
});

test('run/create: -a/--attach names the streams; -a with -d conflicts as in docker', () => {
  const b = body('create -a STDOUT -a stdin busybox');
  assert.deepEqual([b.AttachStdin, b.AttachStdout, b.AttachStderr, b.OpenStdin], [true, true, false, false]);
  assert.deepEqual(spec('run --attach stderr busybox').extras.attach, ['stderr']);
  const run = createOptions(spec('run -a stderr busybox'), 'job', true);
  assert.deepEqual([run.AttachStdout, run.AttachStderr], [false, true]);
  const plain = createOptions(spec('run busybox'), 'job', true);
  assert.deepEqual([plain.AttachStdin, plain.AttachStdout, plain.AttachStderr], [false, true, true]);
  usage('run -a foo busybox', `invalid argument "foo" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR\nSee 'docker run --help'.`);
  assert.throws(() => parseCommand('run -d -a stdout busybox'), (e: unknown) => e instanceof UsageError && e.exitCode === 1 && e.message === 'Conflicting options: -a and -d');
});

test('run/create: --cidfile is for the CLI door only; the server refuses it, never writing a path', () => {
  for (const verb of ['run', 'create']) {
    usage(
      `${verb} --cidfile /tmp/id busybox`,
      `--cidfile /tmp/id: the container ID file is written on your machine, so only the CLI door takes it (\`dockops docker ${verb} --cidfile FILE …\`); dockops never writes a path given in a command\nSee 'docker ${verb} --help'.`,
    );
  }
});

test('policy: --device-cgroup-rule and --gpus under DOCKOPS_ALLOW_DEVICES, --cgroup-parent under DOCKOPS_ALLOW_CGROUP_PARENT, I/O limits on plain /dev paths', () => {
  const closed = { allowPrivileged: false, allowHostNamespaces: false, allowCapAdd: false, bindAllowlist: [] };
  const refused = (cmd: string, message: string, policy: object = closed) =>
    assert.throws(() => checkPolicy(spec(cmd), { ...closed, ...policy }), (e: unknown) => e instanceof PolicyError && e.exitCode === 125 && e.message === message, cmd);
  refused("run --device-cgroup-rule 'c 1:3 mr' --device-cgroup-rule 'a *:* rwm' busybox", "refused by policy: --device-cgroup-rule 'c 1:3 mr','a *:* rwm' lets the container use devices of the host (set DOCKOPS_ALLOW_DEVICES=true to allow it)");
  checkPolicy(spec("run --device-cgroup-rule 'c 1:3 mr' busybox"), { ...closed, allowDevices: true });
  refused('create --gpus all busybox', 'refused by policy: --gpus gives the container GPUs of the host (set DOCKOPS_ALLOW_DEVICES=true to allow it)');
  checkPolicy(spec('create --gpus all busybox'), { ...closed, allowDevices: true });
  refused('run --cgroup-parent /outside busybox', "refused by policy: --cgroup-parent /outside puts the container in a cgroup outside the engine's, where its limits may not hold (set DOCKOPS_ALLOW_CGROUP_PARENT=true to allow it)");
  refused('run --cgroup-parent /outside busybox', "refused by policy: --cgroup-parent /outside puts the container in a cgroup outside the engine's, where its limits may not hold (set DOCKOPS_ALLOW_CGROUP_PARENT=true to allow it)", { allowDevices: true, allowHostNamespaces: true });
  checkPolicy(spec('run --cgroup-parent /outside busybox'), { ...closed, allowCgroupParent: true });
  assert.equal(spec('run --cgroup-parent mine.slice busybox').extras.CgroupParent, 'mine.slice');
  // The throttles stay allowed, on a device's plain path.
  checkPolicy(spec('run --device-read-bps /dev/sda:1mb --device-write-iops /dev/disk/by-id/ata-X_1:5 --blkio-weight-device /dev/nvme0n1:100 busybox'), closed);
  refused('run --device-read-bps /dev/../etc/shadow:1mb busybox', "refused by policy: --device-read-bps /dev/../etc/shadow: the device must be an absolute path under /dev (such as /dev/sda), with no '.' or '..' parts");
  refused('run --blkio-weight-device /dev//sda:100 busybox', "refused by policy: --blkio-weight-device /dev//sda: the device must be an absolute path under /dev (such as /dev/sda), with no '.' or '..' parts");
  refused('run --device-write-iops /dev/./sda:1 busybox', "refused by policy: --device-write-iops /dev/./sda: the device must be an absolute path under /dev (such as /dev/sda), with no '.' or '..' parts");
  // Plain pass-through flags need no setting.
  checkPolicy(spec('run --domainname x --oom-score-adj 100 --runtime runc --storage-opt size=1G --volume-driver local --net appnet --link-local-ip 169.254.1.1 busybox'), closed);
});

test('CLI door: --cidfile is taken out of the words sent and kept as a local path', async () => {
  const { planFiles } = await import('../../src/doors/cli/files.js');
  const io = { stdinIsTTY: true, stdoutIsTTY: true, cwd: '/home/me/app' };
  assert.deepEqual(planFiles(['run', '-a', 'stdout', '--cidfile', 'id.txt', '--name', 'x', 'busybox', '--cidfile', 'arg'], io), {
    args: ['run', '-a', 'stdout', '--name', 'x', 'busybox', '--cidfile', 'arg'],
    cidfile: { given: 'id.txt', path: '/home/me/app/id.txt' },
  });
  const both = planFiles(['container', 'create', '--cidfile=/tmp/c', '--env-file', 'a.env', 'busybox'], io);
  assert.deepEqual(both, { args: ['container', 'create', '--env-file', 'a.env', 'busybox'], runFiles: [{ source: '/home/me/app/a.env', given: 'a.env', cmd: 'container create', index: 3, prefix: '' }], cidfile: { given: '/tmp/c', path: '/tmp/c' } });
  assert.deepEqual(planFiles(['run', '--cidfile', '', 'busybox'], io), { args: ['run', 'busybox'] });
});

test('CLI door: run -i (without -t or -d) uploads stdin; the spec takes it only so', async () => {
  const { planFiles } = await import('../../src/doors/cli/files.js');
  const io = { stdinIsTTY: false, stdoutIsTTY: false, cwd: '/w' };
  const stdin = (words: string[]) => planFiles(words, io).stdin;
  assert.deepEqual(stdin(['run', '-i', 'busybox', 'cat']), { index: 1 });
  assert.deepEqual(stdin(['container', 'run', '--rm', '-ai', 'stdin', 'busybox']), undefined, '-ai: the a takes "i" as its value');
  assert.deepEqual(stdin(['container', 'run', '--interactive', '-a', 'stdout', 'busybox']), { index: 2 });
  assert.deepEqual(stdin(['run', '-ia', 'stdout', 'busybox']), { index: 1 });
  for (const w of [['run', '-it', 'busybox'], ['run', '-i', '-d', 'busybox'], ['run', '-i', '--tty=true', 'busybox'], ['run', '--interactive=false', 'busybox'], ['create', '-i', 'busybox'], ['run', 'busybox', '-i']]) {
    assert.equal(stdin(w), undefined, w.join(' '));
  }
  const s = spec('run -i --stdin-artifact artifact:0123456789abcdef01234567 busybox cat');
  assert.ok(s.kind === 'container.run');
  assert.deepEqual([s.stdin, s.noTerminalNote], ['0123456789abcdef01234567', false]);
  const b = createOptions(s, 'job', true, true);
  assert.deepEqual([b.OpenStdin, b.AttachStdin, b.StdinOnce], [true, true, true]);
  const closed = createOptions(spec('run -i busybox cat'), 'job', true);
  assert.deepEqual([closed.OpenStdin, closed.AttachStdin, closed.StdinOnce], [false, false, false]);
  for (const bad of ['run --stdin-artifact artifact:0123456789abcdef01234567 busybox', 'run -it --stdin-artifact artifact:0123456789abcdef01234567 busybox', 'run -di --stdin-artifact artifact:0123456789abcdef01234567 busybox', 'run -i --stdin-artifact /etc/passwd busybox']) {
    usage(bad, "--stdin-artifact is set by the CLI door for `run -i` (without -t or -d): artifact:ID\nSee 'docker run --help'.");
  }
});
