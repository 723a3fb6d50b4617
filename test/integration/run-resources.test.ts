import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../support/harness.js';
import { docker, dockerCli, uniqueName } from '../support/env.js';
import { quoteWords } from '../../src/commands/tokenize.js';

/**
 * run/create resource flags on the real engine: the same flags through dockops and through
 * Debian's docker CLI (20.10) make containers whose HostConfig reads back the same, with the
 * same engine warnings and refusals. Containers have unique names and are removed in `after`.
 */
let h: Awaited<ReturnType<typeof harness>>;
const made: string[] = [];
const name = (what: string) => {
  const n = uniqueName(what);
  made.push(n);
  return n;
};

before(async () => {
  h = await harness();
  await h.jobs.queueEvents('local');
});

after(async () => {
  const d = docker();
  for (const n of made) await d.getContainer(n).remove({ force: true }).catch(() => undefined);
  await h.close();
});

const RESOURCES =
  '{{.HostConfig.CpuShares}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}} {{.HostConfig.CpuRealtimePeriod}} ' +
  '{{.HostConfig.CpuRealtimeRuntime}} {{.HostConfig.CpusetCpus}} {{.HostConfig.CpusetMems}} {{.HostConfig.BlkioWeight}} {{.HostConfig.Memory}} ' +
  '{{.HostConfig.MemoryReservation}} {{.HostConfig.MemorySwap}} {{.HostConfig.KernelMemory}} {{.HostConfig.PidsLimit}} {{json .HostConfig.Resources}}';

/** `create FLAGS busybox true` through both; the same exit code, stderr, and resources read back. */
async function twins(flags: string[]) {
  const ours = name('res-ours');
  const theirs = name('res-cli');
  const r = await h.run(quoteWords(['create', '--name', ours, ...flags, 'busybox:latest', 'true']));
  const cli = dockerCli(['create', '--name', theirs, ...flags, 'busybox:latest', 'true']);
  assert.deepEqual([r.result.exitCode, r.stderr], [cli.status, cli.stderr], flags.join(' '));
  if (cli.status !== 0) return;
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  const read = (n: string) => dockerCli(['inspect', '-f', RESOURCES, n]).stdout;
  assert.equal(read(ours), read(theirs), flags.join(' '));
  return (await docker().getContainer(ours).inspect()).HostConfig as Record<string, unknown>;
}

test('create: CPU flags read back as docker sets them', async () => {
  const hc = await twins(['-c', '512', '--cpu-period', '100000', '--cpu-quota', '50000', '--cpuset-cpus', '0', '--cpuset-mems', '0']);
  assert.deepEqual([hc?.CpuShares, hc?.CpuPeriod, hc?.CpuQuota, hc?.CpusetCpus, hc?.CpusetMems], [512, 100000, 50000, '0', '0']);
  const nano = await twins(['--cpus', '1/4', '--cpu-shares', '0x400']);
  assert.deepEqual([nano?.NanoCpus, nano?.CpuShares], [250_000_000, 1024]);
  await twins(['--cpu-rt-period', '1000000', '--cpu-rt-runtime', '0']);
});

test('create: memory and pids flags read back as docker sets them', async () => {
  const hc = await twins(['-m', '128m', '--memory-reservation', '64m', '--memory-swap', '256m', '--pids-limit', '77']);
  assert.deepEqual([hc?.Memory, hc?.MemoryReservation, hc?.MemorySwap, hc?.PidsLimit], [128 * 1024 ** 2, 64 * 1024 ** 2, 256 * 1024 ** 2, 77]);
  const unlimited = await twins(['-m', '64m', '--memory-swap', '-1']);
  assert.equal(unlimited?.MemorySwap, -1);
});

test('create: the engine\'s warnings (kernel memory, blkio weight) on stderr as docker prints them', async () => {
  await twins(['--kernel-memory', '64m', '--blkio-weight', '300']);
});

test('create: engine refusals in docker\'s words and exit code', async () => {
  await twins(['--cpus', '0.5', '--cpu-period', '100000']);
  await twins(['--cpus', '-1']);
  await twins(['-m', '1k']);
});

test('run: the limits take effect inside the container', async () => {
  const n = name('res-run');
  const r = await h.run(`run --name ${n} --pids-limit 50 -c 512 -m 64m busybox:latest sh -c 'cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/memory/memory.limit_in_bytes'`);
  assert.deepEqual([r.result.exitCode, r.stdout], [0, `50\n512\n${64 * 1024 ** 2}\n`], r.stderr);
  const refused = await h.run(`run --rm --cpus 0.5 --cpu-period 100000 busybox:latest true`);
  const cli = dockerCli(['run', '--rm', '--cpus', '0.5', '--cpu-period', '100000', 'busybox:latest', 'true']);
  assert.deepEqual([refused.result.exitCode, refused.stderr], [cli.status, cli.stderr]);
});
