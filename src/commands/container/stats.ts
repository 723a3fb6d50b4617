import { z } from 'zod';
import type Docker from 'dockerode';
import { defineCommand, ok } from '../define.js';
import { formatRows } from '../../render/table.js';
import { bytesSize, humanSize, truncateId } from '../../render/units.js';
import { toDockerError } from '../../errors.js';

export const ContainerStatsSpec = z.object({
  kind: z.literal('container.stats'),
  containers: z.array(z.string().min(1)),
  all: z.boolean(),
  noTrunc: z.boolean(),
  format: z.string().optional(),
});
export type ContainerStatsSpec = z.infer<typeof ContainerStatsSpec>;

const DEFAULT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const HEADERS = {
  Container: 'CONTAINER',
  Name: 'NAME',
  ID: 'CONTAINER ID',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

/** The parts of GET /containers/{id}/stats the docker CLI reads (types.StatsJSON). */
export interface EngineStats {
  id?: string;
  name?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  pids_stats?: { current?: number };
}

/** docker's calculateCPUPercentUnix: the container's share of the host's CPU time between two samples. */
export function cpuPercent(s: EngineStats): number {
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  let online = s.cpu_stats?.online_cpus ?? 0;
  if (online === 0) online = s.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/**
 * docker's calculateMemUsageUnixNoCache: usage less the inactive page cache (cgroup v1
 * `total_inactive_file`, cgroup v2 `inactive_file`), as `docker stats` shows it.
 */
export function memUsageNoCache(m: EngineStats['memory_stats']): number {
  const usage = m?.usage ?? 0;
  const stats = m?.stats ?? {};
  if ('total_inactive_file' in stats) {
    if (stats.total_inactive_file < usage) return usage - stats.total_inactive_file;
  } else if ((stats.inactive_file ?? 0) < usage) return usage - (stats.inactive_file ?? 0);
  return usage;
}

/** One row of `docker stats` with the fields its templates offer, as docker's formatter prints them. */
export function statsRow(s: EngineStats, given: string, noTrunc: boolean) {
  const mem = memUsageNoCache(s.memory_stats);
  const limit = s.memory_stats?.limit ?? 0;
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') read += e.value;
    else if (op === 'write') write += e.value;
  }
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  const id = s.id ?? '';
  return {
    Container: given,
    Name: (s.name ?? '').replace(/^\//, '') || '--',
    ID: noTrunc ? id : truncateId(id),
    CPUPerc: `${cpuPercent(s).toFixed(2)}%`,
    MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`,
    MemPerc: `${(limit ? (mem / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSize(rx)} / ${humanSize(tx)}`,
    BlockIO: `${humanSize(read)} / ${humanSize(write)}`,
    PIDs: String(s.pids_stats?.current ?? 0),
  };
}

export const containerStats = defineCommand({
  path: ['container', 'stats'],
  aliases: [['stats']],
  usage: '[OPTIONS] [CONTAINER...]',
  summary: 'Display a snapshot of container(s) resource usage statistics',
  args: { min: 0 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    { name: 'format', type: 'string', valueName: 'string', help: 'Pretty-print images using a Go template' },
    { name: 'no-stream', type: 'bool', help: 'Accepted: dockops always prints one snapshot (chat has no live view)' },
    { name: 'no-trunc', type: 'bool', help: "Do not truncate output" },
  ],
  spec: ContainerStatsSpec,
  toSpec(p) {
    return {
      kind: 'container.stats' as const,
      containers: p.args,
      all: p.flags.all as boolean,
      noTrunc: p.flags['no-trunc'] as boolean,
      format: (p.flags.format as string) || undefined,
    };
  },
  async run(spec, ctx) {
    let targets: string[] = spec.containers;
    if (targets.length === 0) {
      try {
        const list = await ctx.docker.listContainers({ all: spec.all, abortSignal: ctx.signal } as {});
        // As docker does: a container listed without being named shows its short ID as .Container.
        targets = list.map((c: Docker.ContainerInfo) => truncateId(c.Id));
      } catch (err) {
        throw toDockerError(err);
      }
    }
    // stream=false: the engine takes two samples a second apart, so CPU % has a delta, as --no-stream.
    const settled = await Promise.allSettled(
      targets.map((t) => ctx.docker.getContainer(t).stats({ stream: false, abortSignal: ctx.signal } as { stream: false }) as Promise<EngineStats>),
    );
    const errors = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => toDockerError(s.reason).message);
    // docker prints no table when a named container is missing, only the errors.
    if (errors.length && spec.containers.length) return { exitCode: 1, stdout: '', stderr: errors.map((e) => `${e}\n`).join(''), streamed: false, truncated: false };
    const rows = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [statsRow(s.value, targets[i], spec.noTrunc)] : []));
    return ok(formatRows(rows, { format: spec.format, defaultFormat: DEFAULT, headers: HEADERS }), rows);
  },
});
