import { z } from 'zod';
import { defineCommand } from '../define.js';
import { UsageError } from '../../errors.js';
import type { Parsed } from '../parse.js';
import { forEachContainer } from './batch.js';

/** The resources `docker update` may change: Engine API names, only those given. */
export const ContainerUpdateSpec = z.object({
  kind: z.literal('container.update'),
  containers: z.array(z.string().min(1)).min(1),
  resources: z.object({
    BlkioWeight: z.number().int().min(0).max(65535).optional(),
    CpuPeriod: z.number().int().optional(),
    CpuQuota: z.number().int().optional(),
    CpuRealtimePeriod: z.number().int().optional(),
    CpuRealtimeRuntime: z.number().int().optional(),
    CpuShares: z.number().int().optional(),
    NanoCpus: z.number().int().nonnegative().optional(),
    CpusetCpus: z.string().optional(),
    CpusetMems: z.string().optional(),
    KernelMemory: z.number().int().optional(),
    Memory: z.number().int().optional(),
    MemoryReservation: z.number().int().optional(),
    MemorySwap: z.number().int().optional(),
  }),
  restart: z.object({ Name: z.string(), MaximumRetryCount: z.number().int() }).optional(),
});
export type ContainerUpdateSpec = z.infer<typeof ContainerUpdateSpec>;

/** docker 20.10's flag-error tail (the project's wording for every verb). */
const USAGE_TAIL = "\nSee 'docker update --help'.";

/** go-units RAMInBytes: `64m`, `1.5g`, `512MiB`, `1024` (binary multiples). */
export function ramInBytes(raw: string, shown: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(raw);
  if (!m || Number.isNaN(Number(m[1]))) throw new UsageError(`invalid argument "${raw}" for "${shown}" flag: invalid size: '${raw}'${USAGE_TAIL}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g' | 't' | 'p'];
  return Math.floor(Number(m[1]) * mult);
}

function intFlag(p: Parsed, name: string): number | undefined {
  return p.given.has(name) ? (p.flags[name] as number) : undefined;
}

export const containerUpdate = defineCommand({
  path: ['container', 'update'],
  aliases: [['update']],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Update configuration of one or more containers',
  args: { min: 1 },
  flags: [
    { name: 'blkio-weight', type: 'int', valueName: 'uint16', help: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
    { name: 'cpu-period', type: 'int', valueName: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) period' },
    { name: 'cpu-quota', type: 'int', valueName: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
    { name: 'cpu-rt-period', type: 'int', valueName: 'int', help: 'Limit the CPU real-time period in microseconds' },
    { name: 'cpu-rt-runtime', type: 'int', valueName: 'int', help: 'Limit the CPU real-time runtime in microseconds' },
    { name: 'cpu-shares', short: 'c', type: 'int', valueName: 'int', help: 'CPU shares (relative weight)' },
    { name: 'cpus', type: 'string', valueName: 'decimal', help: 'Number of CPUs' },
    { name: 'cpuset-cpus', type: 'string', valueName: 'string', help: 'CPUs in which to allow execution (0-3, 0,1)' },
    { name: 'cpuset-mems', type: 'string', valueName: 'string', help: 'MEMs in which to allow execution (0-3, 0,1)' },
    { name: 'kernel-memory', type: 'string', valueName: 'bytes', help: 'Kernel memory limit (deprecated)' },
    { name: 'memory', short: 'm', type: 'string', valueName: 'bytes', help: 'Memory limit' },
    { name: 'memory-reservation', type: 'string', valueName: 'bytes', help: 'Memory soft limit' },
    { name: 'memory-swap', type: 'string', valueName: 'bytes', help: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap' },
    { name: 'restart', type: 'string', valueName: 'string', help: 'Restart policy to apply when a container exits' },
  ],
  spec: ContainerUpdateSpec,
  toSpec(p) {
    const bytes = (name: string, shown: string) => (p.given.has(name) ? ramInBytes(p.flags[name] as string, shown) : undefined);
    const blkio = intFlag(p, 'blkio-weight');
    if (blkio !== undefined && (blkio < 0 || blkio > 65535)) {
      throw new UsageError(`invalid argument "${blkio}" for "--blkio-weight" flag: strconv.ParseUint: parsing "${blkio}": value out of range${USAGE_TAIL}`);
    }
    let nanoCpus: number | undefined;
    if (p.given.has('cpus')) {
      const raw = p.flags.cpus as string;
      const c = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(c) || c < 0) throw new UsageError(`invalid argument "${raw}" for "--cpus" flag: failed to parse ${raw} as a rational number${USAGE_TAIL}`);
      nanoCpus = Math.round(c * 1e9);
    }
    let memorySwap: number | undefined;
    if (p.given.has('memory-swap')) memorySwap = p.flags['memory-swap'] === '-1' ? -1 : bytes('memory-swap', '--memory-swap');
    let restart: ContainerUpdateSpec['restart'];
    if (p.given.has('restart')) {
      // opts.ParseRestartPolicy: NAME[:COUNT]; the engine judges the name.
      const [name, count, extra] = (p.flags.restart as string).split(':');
      if (extra !== undefined || (count !== undefined && !/^\d+$/.test(count))) {
        throw new UsageError(`invalid argument "${p.flags.restart}" for "--restart" flag: maximum retry count must be an integer${USAGE_TAIL}`);
      }
      restart = { Name: name, MaximumRetryCount: count ? Number(count) : 0 };
    }
    const resources = {
      BlkioWeight: blkio,
      CpuPeriod: intFlag(p, 'cpu-period'),
      CpuQuota: intFlag(p, 'cpu-quota'),
      CpuRealtimePeriod: intFlag(p, 'cpu-rt-period'),
      CpuRealtimeRuntime: intFlag(p, 'cpu-rt-runtime'),
      CpuShares: intFlag(p, 'cpu-shares'),
      NanoCpus: nanoCpus,
      CpusetCpus: p.given.has('cpuset-cpus') ? (p.flags['cpuset-cpus'] as string) : undefined,
      CpusetMems: p.given.has('cpuset-mems') ? (p.flags['cpuset-mems'] as string) : undefined,
      KernelMemory: bytes('kernel-memory', '--kernel-memory'),
      Memory: bytes('memory', '-m, --memory'),
      MemoryReservation: bytes('memory-reservation', '--memory-reservation'),
      MemorySwap: memorySwap,
    };
    const anything = Object.values(resources).some((v) => v !== undefined) || restart !== undefined;
    // docker checks this before talking to the engine, with exit code 1.
    if (!anything) throw new UsageError('you must provide one or more flags when using this command', 1);
    return {
      kind: 'container.update' as const,
      containers: p.args,
      resources: Object.fromEntries(Object.entries(resources).filter(([, v]) => v !== undefined)),
      restart,
    };
  },
  async run(spec, ctx) {
    const warnings: string[] = [];
    const result = await forEachContainer(spec.containers, async (name) => {
      const body = { ...spec.resources, ...(spec.restart ? { RestartPolicy: spec.restart } : {}) };
      const answer = (await ctx.docker.getContainer(name).update({ ...body, abortSignal: ctx.signal } as {})) as { Warnings?: string[] | null } | undefined;
      warnings.push(...(answer?.Warnings ?? []));
      return undefined;
    });
    // docker prints the engine's warnings (kernel memory deprecated, blkio unsupported…) on stdout, after the names.
    return { ...result, stdout: result.stdout + warnings.map((w) => `${w}\n`).join('') };
  },
});
