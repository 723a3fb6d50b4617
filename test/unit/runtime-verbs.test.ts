import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobSpec, commandForKind, parseCommand } from '../../src/commands/index.js';
import { checkPolicy } from '../../src/policy/index.js';
import { PolicyError, UsageError } from '../../src/errors.js';
import { cpuPercent, memUsageNoCache, statsRow } from '../../src/commands/container/stats.js';
import { eventLine, rfc3339NanoFixed } from '../../src/commands/system/events.js';
import { dfRows } from '../../src/commands/system/df.js';

const NOW = Date.parse('2026-11-29T06:40:00Z');
const spec = (cmd: string) => {
  const o = parseCommand(cmd, { now: () => NOW });
  assert.equal(o.type, 'spec', cmd);
  return (o as { spec: JobSpec }).spec;
};
const usage = (cmd: string, re: RegExp, exitCode = 125) =>
  assert.throws(
    () => parseCommand(cmd, { now: () => NOW }),
    (e: unknown) => e instanceof UsageError && e.exitCode === exitCode && re.test(e.message),
    cmd,
  );
const policy = { allowPrivileged: false, allowHostNamespaces: false, allowCapAdd: false, bindAllowlist: [] };

test('aliases reach the runtime verbs', () => {
  const cases: Record<string, string[]> = {
    'container.exec': ['exec a ls', 'container exec a ls'],
    'container.stats': ['stats', 'container stats a'],
    'container.update': ['update -m 64m a', 'container update -m 64m a'],
    'container.commit': ['commit a', 'container commit a'],
    'system.df': ['system df'],
    'system.events': ['events', 'system events'],
  };
  for (const [kind, cmds] of Object.entries(cases)) {
    for (const c of cmds) assert.equal(spec(c).kind, kind, c);
    assert.ok(commandForKind(kind), kind);
  }
});

test('exec: flags before the container, the rest is the command; -e NAME refused; -i/-t noted', () => {
  assert.deepEqual(spec('exec -d -e A=1 -u 1000:1000 -w /tmp c sh -c "ls -l" -e x'), {
    kind: 'container.exec',
    container: 'c',
    cmd: ['sh', '-c', 'ls -l', '-e', 'x'],
    detach: true,
    env: ['A=1'],
    user: '1000:1000',
    workdir: '/tmp',
    privileged: false,
    noTerminalNote: false,
  });
  assert.equal((spec('exec -it c sh') as { noTerminalNote: boolean }).noTerminalNote, true);
  usage('exec -e FOO c true', /^-e FOO: dockops has no shell environment to take FOO from; write -e FOO=VALUE\nSee 'docker exec --help'\.$/);
  usage('exec c', /^"docker exec" requires at least 2 arguments\./);
  usage('exec --nope c true', /^unknown flag: --nope/);
});

test('exec --privileged is refused unless DOCKOPS_ALLOW_PRIVILEGED; -u is not a policy matter', () => {
  assert.throws(() => checkPolicy(spec('exec --privileged c true'), policy), PolicyError);
  checkPolicy(spec('exec --privileged c true'), { ...policy, allowPrivileged: true });
  checkPolicy(spec('exec -u root c true'), policy);
});

test('stats: --no-stream accepted, -a, --no-trunc, --format', () => {
  assert.deepEqual(spec('stats --no-stream -a --no-trunc --format "{{.Name}}" a b'), {
    kind: 'container.stats',
    containers: ['a', 'b'],
    all: true,
    noTrunc: true,
    format: '{{.Name}}',
  });
});

test('stats: CPU % and memory as the docker CLI computes them', () => {
  const s = {
    id: 'a'.repeat(64),
    name: '/web',
    cpu_stats: { cpu_usage: { total_usage: 400, percpu_usage: [1, 2] }, system_cpu_usage: 2000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 200 }, system_cpu_usage: 1000 },
    memory_stats: { usage: 10 * 1024 * 1024, limit: 100 * 1024 * 1024, stats: { total_inactive_file: 2 * 1024 * 1024, cache: 4 * 1024 * 1024 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 1000 }, { op: 'Write', value: 2500 }, { op: 'Total', value: 3500 }] },
    networks: { eth0: { rx_bytes: 1500, tx_bytes: 0 }, eth1: { rx_bytes: 500, tx_bytes: 10 } },
    pids_stats: { current: 3 },
  };
  assert.equal(cpuPercent(s), 40);
  assert.equal(memUsageNoCache(s.memory_stats), 8 * 1024 * 1024);
  assert.equal(memUsageNoCache({ usage: 100, stats: { inactive_file: 30 } }), 70);
  assert.equal(memUsageNoCache({ usage: 100, stats: { total_inactive_file: 300 } }), 100);
  assert.deepEqual(statsRow(s, 'web', false), {
    Container: 'web',
    Name: 'web',
    ID: 'aaaaaaaaaaaa',
    CPUPerc: '40.00%',
    MemUsage: '8MiB / 100MiB',
    MemPerc: '8.00%',
    NetIO: '2kB / 10B',
    BlockIO: '1kB / 2.5kB',
    PIDs: '3',
  });
  // A stopped container: the engine answers zeros.
  assert.deepEqual(statsRow({ id: 'b'.repeat(64), name: '/x' }, 'x', true).MemUsage, '0B / 0B');
});

test('update: every seed flag to its Engine API field; none given is docker\'s exit 1', () => {
  assert.deepEqual(
    spec('update --blkio-weight 300 --cpu-period 100000 --cpu-quota 50000 --cpu-rt-period 1000 --cpu-rt-runtime 500 -c 512 --cpus 1.5 --cpuset-cpus 0-1 --cpuset-mems 0 --kernel-memory 50m -m 64m --memory-reservation 32M --memory-swap -1 --restart on-failure:3 a b'),
    {
      kind: 'container.update',
      containers: ['a', 'b'],
      resources: {
        BlkioWeight: 300,
        CpuPeriod: 100000,
        CpuQuota: 50000,
        CpuRealtimePeriod: 1000,
        CpuRealtimeRuntime: 500,
        CpuShares: 512,
        NanoCpus: 1_500_000_000,
        CpusetCpus: '0-1',
        CpusetMems: '0',
        KernelMemory: 50 * 1024 * 1024,
        Memory: 64 * 1024 * 1024,
        MemoryReservation: 32 * 1024 * 1024,
        MemorySwap: -1,
      },
      restart: { Name: 'on-failure', MaximumRetryCount: 3 },
    },
  );
  assert.deepEqual(spec('update --memory-swap 1g --restart no a'), { kind: 'container.update', containers: ['a'], resources: { MemorySwap: 1024 ** 3 }, restart: { Name: 'no', MaximumRetryCount: 0 } });
  usage('update a', /^you must provide one or more flags when using this command$/, 1);
  usage('update -m foo a', /^invalid argument "foo" for "-m, --memory" flag: invalid size: 'foo'\nSee 'docker update --help'\.$/);
  usage('update --cpus x a', /^invalid argument "x" for "--cpus" flag: failed to parse x as a rational number/);
  usage('update --cpu-shares x a', /^invalid argument "x" for "-c, --cpu-shares" flag: strconv.ParseInt/);
  usage('update -m 1m', /requires at least 1 argument/);
});

test('commit: -a -c (repeated) -m -p, REPOSITORY[:TAG] with latest by default', () => {
  assert.deepEqual(spec('commit -a me -m msg -c "ENV A=b" -c \'CMD ["sh"]\' -p=false c repo/img:v1'), {
    kind: 'container.commit',
    container: 'c',
    repo: 'repo/img',
    tag: 'v1',
    author: 'me',
    message: 'msg',
    changes: ['ENV A=b', 'CMD ["sh"]'],
    pause: false,
  });
  const plain = spec('commit c img') as { repo?: string; tag?: string; pause: boolean };
  assert.deepEqual([plain.repo, plain.tag, plain.pause], ['img', 'latest', true]);
  assert.equal((spec('commit c') as { repo?: string }).repo, undefined);
  usage('commit c BAD:ref', /^invalid reference format: repository name must be lowercase$/, 1);
  usage('commit c a b', /requires at most 2 arguments/);
});

test('system df: -v and --format; rows computed as docker does', () => {
  assert.deepEqual(spec('system df -v'), { kind: 'system.df', verbose: true, format: undefined });
  assert.deepEqual(spec('system df --format "{{.Type}}"'), { kind: 'system.df', verbose: false, format: '{{.Type}}' });
  const rows = dfRows({
    LayersSize: 1000,
    Images: [
      { Id: 'a', Containers: 1, Size: 600, SharedSize: 100 },
      { Id: 'b', Containers: 0, Size: 400, SharedSize: 0 },
    ] as never,
    Containers: [
      { State: 'running', SizeRw: 30 },
      { State: 'exited', SizeRw: 10 },
    ] as never,
    Volumes: [{ Name: 'v', Driver: 'local', Mountpoint: '', Scope: 'local', UsageData: { Size: 7, RefCount: 0 } }],
    BuildCache: [],
  });
  assert.deepEqual(rows, [
    { Type: 'Images', TotalCount: '2', Active: '1', Size: '1kB', Reclaimable: '500B (50%)' },
    { Type: 'Containers', TotalCount: '2', Active: '1', Size: '40B', Reclaimable: '10B (25%)' },
    { Type: 'Local Volumes', TotalCount: '1', Active: '0', Size: '7B', Reclaimable: '7B (100%)' },
    { Type: 'Build Cache', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
  ]);
});

test('events: --since/--until as engine timestamps, filters, --for bounded to 10m', () => {
  assert.deepEqual(spec('events --since 1m --until 0s -f type=container -f event=start --format "{{json .}}"'), {
    kind: 'system.events',
    since: String(NOW / 1000 - 60),
    until: String(NOW / 1000),
    filters: { type: ['container'], event: ['start'] },
    format: '{{json .}}',
    forSeconds: 10,
  });
  assert.equal((spec('events --for 5m') as { forSeconds: number }).forSeconds, 300);
  usage('events --for 11m', /^invalid value for "--for": "11m" \(a duration up to 10m/);
  usage('events --since foo', /^failed to parse value as time or duration: "foo"$/, 1);
  usage('events -f nope', /^bad format of filter \(expected name=value\)/);
});

test('events: docker\'s line, attributes sorted, nanoseconds exact', () => {
  assert.equal(rfc3339NanoFixed('1795934515383000493'), '2026-11-29T06:41:55.383000493Z');
  assert.equal(rfc3339NanoFixed('1795934515000000000'), '2026-11-29T06:41:55.000000000Z');
  const line = '{"status":"create","id":"abc","from":"busybox","Type":"container","Action":"create","Actor":{"ID":"abc","Attributes":{"name":"x","image":"busybox"}},"scope":"local","time":1795934401,"timeNano":1795934401123456789}';
  assert.equal(eventLine(JSON.parse(line), line), '2026-11-29T06:40:01.123456789Z container create abc (image=busybox, name=x)\n');
  const bare = '{"Type":"network","Action":"prune","Actor":{"ID":"","Attributes":{}},"time":1795934401,"timeNano":1795934401000000001}';
  assert.equal(eventLine(JSON.parse(bare), bare), '2026-11-29T06:40:01.000000001Z network prune \n');
});
