/**
 * The resource flags `run`, `create` and `update` share (docker's container.Resources), read
 * with the docker CLI's own rules and words: pflag ints (base prefixes allowed), go-units
 * RAMInBytes sizes, opts.NanoCPUs rationals, opts.MemSwapBytes' `-1`, a uint16 blkio weight.
 */
import { z } from 'zod';
import { UsageError } from '../../errors.js';
import { goParseInt, seeHelp, type FlagDef, type Parsed } from '../parse.js';

/** Engine API names; only the flags given are set. */
export const ResourcesSpec = z.object({
  BlkioWeight: z.number().int().min(0).max(65535).optional(),
  CpuPeriod: z.number().int().optional(),
  CpuQuota: z.number().int().optional(),
  CpuRealtimePeriod: z.number().int().optional(),
  CpuRealtimeRuntime: z.number().int().optional(),
  CpuShares: z.number().int().optional(),
  NanoCpus: z.number().int().optional(),
  CpusetCpus: z.string().optional(),
  CpusetMems: z.string().optional(),
  KernelMemory: z.number().int().optional(),
  Memory: z.number().int().optional(),
  MemoryReservation: z.number().int().optional(),
  MemorySwap: z.number().int().optional(),
  PidsLimit: z.number().int().optional(),
});
export type ResourcesSpec = z.infer<typeof ResourcesSpec>;

export const RESOURCE_FLAGS: FlagDef[] = [
  { name: 'blkio-weight', type: 'string', valueName: 'uint16', help: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
  { name: 'cpu-period', type: 'int', valueName: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { name: 'cpu-quota', type: 'int', valueName: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { name: 'cpu-rt-period', type: 'int', valueName: 'int', help: 'Limit CPU real-time period in microseconds' },
  { name: 'cpu-rt-runtime', type: 'int', valueName: 'int', help: 'Limit CPU real-time runtime in microseconds' },
  { name: 'cpu-shares', short: 'c', type: 'int', valueName: 'int', help: 'CPU shares (relative weight)' },
  { name: 'cpus', type: 'string', valueName: 'decimal', help: 'Number of CPUs' },
  { name: 'cpuset-cpus', type: 'string', valueName: 'string', help: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'cpuset-mems', type: 'string', valueName: 'string', help: 'MEMs in which to allow execution (0-3, 0,1)' },
  { name: 'kernel-memory', type: 'string', valueName: 'bytes', help: 'Kernel memory limit' },
  { name: 'memory', short: 'm', type: 'string', valueName: 'bytes', help: 'Memory limit' },
  { name: 'memory-reservation', type: 'string', valueName: 'bytes', help: 'Memory soft limit' },
  { name: 'memory-swap', type: 'string', valueName: 'bytes', help: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { name: 'pids-limit', type: 'int', valueName: 'int', help: 'Tune container pids limit (set -1 for unlimited)' },
];

function badValue(raw: string, flag: string, why: string, commandPath: string): UsageError {
  return new UsageError(`invalid argument "${raw}" for "${flag}" flag: ${why}\n${seeHelp(commandPath)}`);
}

/** go-units RAMInBytes: `64m`, `1.5g`, `512MiB`, `1024` (binary multiples); undefined when it is no size. */
export function ramBytes(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(raw);
  if (!m || Number.isNaN(Number(m[1]))) return undefined;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g' | 't' | 'p'];
  return Math.floor(Number(m[1]) * mult);
}

/** A size flag (opts.MemBytes), with docker's words when it is no size. */
export function ramInBytes(raw: string, flag: string, commandPath: string): number {
  const n = ramBytes(raw);
  if (n === undefined) throw badValue(raw, flag, `invalid size: '${raw}'`, commandPath);
  return n;
}

/**
 * opts.NanoCPUs: a rational number (big.Rat: `1.5`, `.5`, `1e-2`, `1/4`) times 10^9, which must
 * come out whole ("value is too precise" otherwise). A negative value is the engine's to refuse.
 */
export function nanoCpus(raw: string, commandPath: string): number {
  const bad = (why: string) => badValue(raw, '--cpus', why, commandPath);
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(raw);
  const dec = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(raw);
  let num: bigint;
  let den: bigint;
  if (frac && BigInt(frac[2]) !== 0n) {
    num = BigInt(frac[1]) * 1_000_000_000n;
    den = BigInt(frac[2]);
  } else if (dec && `${dec[2]}${dec[3] ?? ''}` !== '') {
    const digits = `${dec[2]}${dec[3] ?? ''}`;
    const shift = 9 + Number(dec[4] ?? 0) - (dec[3] ?? '').length;
    num = BigInt(`${dec[1]}${digits}`) * (shift > 0 ? 10n ** BigInt(shift) : 1n);
    den = shift < 0 ? 10n ** BigInt(-shift) : 1n;
  } else throw bad(`failed to parse ${raw} as a rational number`);
  if (num % den !== 0n) throw bad('value is too precise');
  return Number(num / den);
}

/** The resource flags given, as Engine API fields; docker's errors (exit 125) for bad values. */
export function parseResources(p: Parsed, commandPath: string): ResourcesSpec {
  const given = (name: string) => p.given.has(name);
  const int = (name: string) => (given(name) ? (p.flags[name] as number) : undefined);
  const bytes = (name: string, flag: string) => (given(name) ? ramInBytes(p.flags[name] as string, flag, commandPath) : undefined);
  let blkio: number | undefined;
  if (given('blkio-weight')) {
    // pflag's Uint16: strconv.ParseUint(s, 0, 16).
    const raw = p.flags['blkio-weight'] as string;
    const n = goParseInt(raw, { signed: false, bits: 16 });
    if (typeof n === 'string') throw badValue(raw, '--blkio-weight', `strconv.ParseUint: parsing "${raw}": ${n}`, commandPath);
    blkio = n;
  }
  const swap = p.flags['memory-swap'] as string;
  const resources: ResourcesSpec = {
    BlkioWeight: blkio,
    CpuPeriod: int('cpu-period'),
    CpuQuota: int('cpu-quota'),
    CpuRealtimePeriod: int('cpu-rt-period'),
    CpuRealtimeRuntime: int('cpu-rt-runtime'),
    CpuShares: int('cpu-shares'),
    NanoCpus: given('cpus') ? nanoCpus(p.flags.cpus as string, commandPath) : undefined,
    CpusetCpus: given('cpuset-cpus') ? (p.flags['cpuset-cpus'] as string) : undefined,
    CpusetMems: given('cpuset-mems') ? (p.flags['cpuset-mems'] as string) : undefined,
    KernelMemory: bytes('kernel-memory', '--kernel-memory'),
    Memory: bytes('memory', '-m, --memory'),
    MemoryReservation: bytes('memory-reservation', '--memory-reservation'),
    // opts.MemSwapBytes: "-1" is unlimited, anything else a size.
    MemorySwap: given('memory-swap') ? (swap === '-1' ? -1 : bytes('memory-swap', '--memory-swap')) : undefined,
    PidsLimit: int('pids-limit'),
  };
  return Object.fromEntries(Object.entries(resources).filter(([, v]) => v !== undefined)) as ResourcesSpec;
}
