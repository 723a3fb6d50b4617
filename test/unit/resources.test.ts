import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobSpec, parseCommand } from '../../src/commands/index.js';
import { createOptions } from '../../src/commands/container/run-options.js';
import { goParseInt } from '../../src/commands/parse.js';
import { UsageError } from '../../src/errors.js';

const spec = (cmd: string) => {
  const o = parseCommand(cmd);
  assert.equal(o.type, 'spec', cmd);
  return (o as { spec: JobSpec }).spec;
};
const usage = (cmd: string, message: string, exitCode = 125) =>
  assert.throws(
    () => parseCommand(cmd),
    (e: unknown) => e instanceof UsageError && e.exitCode === exitCode && e.message === message,
    cmd,
  );

test('run/create: the resource flags of update, read with docker\'s rules, land in HostConfig', () => {
  const s = spec(
    'run -c 512 --cpus 1/4 --blkio-weight 0x10 --pids-limit 50 -m 64m --memory-swap -1 --kernel-memory 8m --memory-reservation 32MiB --cpu-period 100000 --cpu-quota 50000 --cpu-rt-period 1000000 --cpu-rt-runtime 950000 --cpuset-cpus 0-1 --cpuset-mems 0 busybox true',
  );
  assert.ok(s.kind === 'container.run');
  const expected = {
    BlkioWeight: 16,
    CpuPeriod: 100000,
    CpuQuota: 50000,
    CpuRealtimePeriod: 1000000,
    CpuRealtimeRuntime: 950000,
    CpuShares: 512,
    NanoCpus: 250_000_000,
    CpusetCpus: '0-1',
    CpusetMems: '0',
    KernelMemory: 8 * 1024 ** 2,
    Memory: 64 * 1024 ** 2,
    MemoryReservation: 32 * 1024 ** 2,
    MemorySwap: -1,
    PidsLimit: 50,
  };
  assert.deepEqual(s.resources, expected);
  const body = createOptions(s, 'job', false) as { HostConfig: Record<string, unknown> };
  for (const [k, v] of Object.entries(expected)) assert.equal(body.HostConfig[k], v, k);
  // Only what was given is sent: the engine keeps its defaults for the rest.
  const plain = spec('create busybox');
  assert.ok(plain.kind === 'container.create');
  assert.deepEqual(plain.resources, {});
  assert.equal('PidsLimit' in (createOptions(plain, 'job', false) as { HostConfig: object }).HostConfig, false);
  // --cpus: a rational number of nano CPUs; a negative one is the engine's to refuse, as docker leaves it.
  for (const [cpus, nano] of [['1.5', 1.5e9], ['.5', 5e8], ['1e-2', 1e7], ['2', 2e9], ['-1', -1e9]] as const) {
    const r = spec(`create --cpus ${cpus} busybox`);
    assert.equal(r.kind === 'container.create' && r.resources.NanoCpus, nano, cpus);
  }
});

test('run/create/update: resource flag errors in docker 20.10\'s words', () => {
  usage('create --cpus 1/3 busybox', 'invalid argument "1/3" for "--cpus" flag: value is too precise\nSee \'docker create --help\'.');
  usage('run --cpus 0.0000000001 busybox', 'invalid argument "0.0000000001" for "--cpus" flag: value is too precise\nSee \'docker run --help\'.');
  usage("create --cpus ' 1' busybox", 'invalid argument " 1" for "--cpus" flag: failed to parse  1 as a rational number\nSee \'docker create --help\'.');
  usage('create --blkio-weight -1 busybox', 'invalid argument "-1" for "--blkio-weight" flag: strconv.ParseUint: parsing "-1": invalid syntax\nSee \'docker create --help\'.');
  usage('update --blkio-weight 70000 a', 'invalid argument "70000" for "--blkio-weight" flag: strconv.ParseUint: parsing "70000": value out of range\nSee \'docker update --help\'.');
  usage('create --pids-limit x busybox', 'invalid argument "x" for "--pids-limit" flag: strconv.ParseInt: parsing "x": invalid syntax\nSee \'docker create --help\'.');
  usage('create --memory-swap 1x busybox', 'invalid argument "1x" for "--memory-swap" flag: invalid size: \'1x\'\nSee \'docker create --help\'.');
  usage('run -m 1q busybox', 'invalid argument "1q" for "-m, --memory" flag: invalid size: \'1q\'\nSee \'docker run --help\'.');
  usage('create --mount type=tmpfs,target=/t,tmpfs-size=x busybox', 'invalid argument "type=tmpfs,target=/t,tmpfs-size=x" for "--mount" flag: invalid value for tmpfs-size: x\nSee \'docker create --help\'.');
  // update has --pids-limit too now.
  const u = spec('update --pids-limit 99 a');
  assert.deepEqual(u.kind === 'container.update' && u.resources, { PidsLimit: 99 });
});

test("pflag's integers: Go's ParseInt with base 0", () => {
  const i64 = { signed: true, bits: 64 };
  assert.deepEqual(['42', '-7', '0x1f', '0o17', '017', '0b101', '1_000', '0x_1f'].map((r) => goParseInt(r, i64)), [42, -7, 31, 15, 15, 5, 1000, 31]);
  assert.deepEqual(['08', '_1', '1_', '1__0', '0x', '1.5', '', '9223372036854775808'].map((r) => goParseInt(r, i64)), [
    'invalid syntax', 'invalid syntax', 'invalid syntax', 'invalid syntax', 'invalid syntax', 'invalid syntax', 'invalid syntax', 'value out of range',
  ]);
  assert.equal(goParseInt('-1', { signed: false, bits: 16 }), 'invalid syntax');
  assert.equal(goParseInt('65536', { signed: false, bits: 16 }), 'value out of range');
  const c = spec('create -c 0x10 busybox');
  assert.equal(c.kind === 'container.create' && c.resources.CpuShares, 16);
});
