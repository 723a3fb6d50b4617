/**
 * The flags of `docker run`/`create` beyond the basics and the resource limits: DNS and hosts,
 * health checks, namespaces, ulimits, tmpfs, logging, devices, security options. Read with the
 * docker 20.10 CLI's rules (cli/command/container/opts.go) and words, and kept as the Engine API
 * fields they become. The risky ones (host namespaces, devices, security options) are left to the
 * policy (src/policy/index.ts), which reads them from here.
 */
import { z } from 'zod';
import { UsageError } from '../../errors.js';
import { seeHelp, type FlagDef, type Parsed } from '../parse.js';
import { ramInBytes } from './resources.js';
import { canonicalIp, goDurationNs, isMac } from './go-values.js';
import {
  Device, DeviceRequest, ThrottleDevice, Ulimit, WeightDevice, badValue, deviceCgroupRule, dnsSearch, parseDevice, parseExpose, parseGpus, parseUlimit, report, securityOpt,
  sysctl, throttleBps, throttleIops, weightDevice,
} from './docker-opts.js';
import { kvMap } from '../kv.js';

/** Engine API names (Config, HostConfig, the endpoint); only what was given is set. */
export const ExtrasSpec = z.object({
  // Config
  Healthcheck: z
    .object({ Test: z.array(z.string()).optional(), Interval: z.number().int(), Timeout: z.number().int(), StartPeriod: z.number().int(), Retries: z.number().int() })
    .partial()
    .optional(),
  StopSignal: z.string().optional(),
  StopTimeout: z.number().int().optional(),
  MacAddress: z.string().optional(),
  Domainname: z.string().optional(),
  /** -a/--attach: the streams named (stdin, stdout, stderr), lower-cased as docker keeps them. */
  attach: z.array(z.enum(['stdin', 'stdout', 'stderr'])).optional(),
  /** --expose, as ExposedPorts keys ("80/tcp"). */
  expose: z.array(z.string()).optional(),
  // HostConfig
  ExtraHosts: z.array(z.string()).optional(),
  Dns: z.array(z.string()).optional(),
  DnsSearch: z.array(z.string()).optional(),
  DnsOptions: z.array(z.string()).optional(),
  Init: z.boolean().optional(),
  ReadonlyRootfs: z.boolean().optional(),
  ShmSize: z.number().int().optional(),
  Tmpfs: z.record(z.string(), z.string()).optional(),
  Ulimits: z.array(Ulimit).optional(),
  CapDrop: z.array(z.string()).optional(),
  MemorySwappiness: z.number().int().optional(),
  OomKillDisable: z.boolean().optional(),
  LogConfig: z.object({ Type: z.string(), Config: z.record(z.string(), z.string()) }).optional(),
  GroupAdd: z.array(z.string()).optional(),
  Sysctls: z.record(z.string(), z.string()).optional(),
  PidMode: z.string().optional(),
  IpcMode: z.string().optional(),
  UTSMode: z.string().optional(),
  UsernsMode: z.string().optional(),
  CgroupnsMode: z.string().optional(),
  Devices: z.array(Device).optional(),
  SecurityOpt: z.array(z.string()).optional(),
  OomScoreAdj: z.number().int().optional(),
  Runtime: z.string().optional(),
  Isolation: z.string().optional(),
  StorageOpt: z.record(z.string(), z.string()).optional(),
  VolumeDriver: z.string().optional(),
  CgroupParent: z.string().optional(),
  DeviceCgroupRules: z.array(z.string()).optional(),
  BlkioWeightDevice: z.array(WeightDevice).optional(),
  BlkioDeviceReadBps: z.array(ThrottleDevice).optional(),
  BlkioDeviceWriteBps: z.array(ThrottleDevice).optional(),
  BlkioDeviceReadIOps: z.array(ThrottleDevice).optional(),
  BlkioDeviceWriteIOps: z.array(ThrottleDevice).optional(),
  DeviceRequests: z.array(DeviceRequest).optional(),
  // The endpoint on --network, and the create query
  aliases: z.array(z.string()).optional(),
  ipv4: z.string().optional(),
  ipv6: z.string().optional(),
  linkLocalIps: z.array(z.string()).optional(),
  platform: z.string().optional(),
  /** --label-file: uploaded files (artifact ids) read by the worker, as --env-file is. */
  labelFile: z.array(z.string().regex(/^[0-9a-f]{24}$/)).optional(),
});
export type ExtrasSpec = z.infer<typeof ExtrasSpec>;

/** The fields of ExtrasSpec that go in the create body's Config and HostConfig as they are. */
export const CONFIG_FIELDS = ['Healthcheck', 'StopSignal', 'StopTimeout', 'MacAddress', 'Domainname'] as const;
export const HOST_CONFIG_FIELDS = [
  'ExtraHosts', 'Dns', 'DnsSearch', 'DnsOptions', 'Init', 'ReadonlyRootfs', 'ShmSize', 'Tmpfs', 'Ulimits', 'CapDrop', 'MemorySwappiness', 'OomKillDisable',
  'LogConfig', 'GroupAdd', 'Sysctls', 'PidMode', 'IpcMode', 'UTSMode', 'UsernsMode', 'CgroupnsMode', 'Devices', 'SecurityOpt',
  'OomScoreAdj', 'Runtime', 'Isolation', 'StorageOpt', 'VolumeDriver', 'CgroupParent', 'DeviceCgroupRules', 'BlkioWeightDevice', 'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'DeviceRequests',
] as const;

const DURATION = '(ms|s|m|h) (default 0s)';

export const EXTRA_FLAGS: FlagDef[] = [
  { name: 'add-host', type: 'list', valueName: 'list', help: 'Add a custom host-to-IP mapping (host:ip)' },
  { name: 'attach', short: 'a', type: 'list', valueName: 'list', help: 'Attach to STDIN, STDOUT or STDERR (run: only the streams named are shown; STDIN stays closed)' },
  { name: 'blkio-weight-device', type: 'list', valueName: 'list', help: 'Block IO weight (relative device weight, /dev/PATH:WEIGHT)' },
  { name: 'cgroup-parent', type: 'string', valueName: 'string', help: 'Optional parent cgroup for the container (subject to policy)' },
  { name: 'cidfile', type: 'string', valueName: 'string', help: 'Write the container ID to the file (CLI door only: written on your machine)' },
  { name: 'device-cgroup-rule', type: 'list', valueName: 'list', help: 'Add a rule to the cgroup allowed devices list (subject to policy)' },
  { name: 'device-read-bps', type: 'list', valueName: 'list', help: 'Limit read rate (bytes per second) from a device' },
  { name: 'device-read-iops', type: 'list', valueName: 'list', help: 'Limit read rate (IO per second) from a device' },
  { name: 'device-write-bps', type: 'list', valueName: 'list', help: 'Limit write rate (bytes per second) to a device' },
  { name: 'device-write-iops', type: 'list', valueName: 'list', help: 'Limit write rate (IO per second) to a device' },
  { name: 'disable-content-trust', type: 'bool', default: true, help: 'Skip image verification (accepted; dockops does no content trust)' },
  { name: 'domainname', type: 'string', valueName: 'string', help: 'Container NIS domain name' },
  { name: 'gpus', type: 'list', valueName: 'gpu-request', help: "GPU devices to add to the container ('all' to pass all GPUs; subject to policy)" },
  { name: 'isolation', type: 'string', valueName: 'string', help: 'Container isolation technology' },
  { name: 'link-local-ip', type: 'list', valueName: 'list', help: 'Container IPv4/IPv6 link-local addresses' },
  { name: 'oom-score-adj', type: 'int', valueName: 'int', help: "Tune host's OOM preferences (-1000 to 1000)" },
  { name: 'runtime', type: 'string', valueName: 'string', help: 'Runtime to use for this container' },
  { name: 'storage-opt', type: 'list', valueName: 'list', help: 'Storage driver options for the container' },
  { name: 'volume-driver', type: 'string', valueName: 'string', help: 'Optional volume driver for the container' },
  { name: 'cap-drop', type: 'list', valueName: 'list', help: 'Drop Linux capabilities' },
  { name: 'cgroupns', type: 'string', valueName: 'string', help: "Cgroup namespace to use (host|private); 'host' is subject to policy" },
  { name: 'device', type: 'list', valueName: 'list', help: 'Add a host device to the container (subject to policy)' },
  { name: 'dns', type: 'list', valueName: 'list', help: 'Set custom DNS servers' },
  { name: 'dns-option', type: 'list', valueName: 'list', help: 'Set DNS options' },
  { name: 'dns-opt', type: 'list', valueName: 'list', help: 'Set DNS options', hidden: true },
  { name: 'dns-search', type: 'list', valueName: 'list', help: 'Set custom DNS search domains' },
  { name: 'expose', type: 'list', valueName: 'list', help: 'Expose a port or a range of ports' },
  { name: 'group-add', type: 'list', valueName: 'list', help: 'Add additional groups to join' },
  { name: 'health-cmd', type: 'string', valueName: 'string', help: 'Command to run to check health (run by the shell inside the container)' },
  { name: 'health-interval', type: 'string', valueName: 'duration', help: `Time between running the check ${DURATION}` },
  { name: 'health-retries', type: 'int', valueName: 'int', help: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-start-period', type: 'string', valueName: 'duration', help: `Start period for the container to initialize before starting health-retries countdown ${DURATION}` },
  { name: 'health-timeout', type: 'string', valueName: 'duration', help: `Maximum time to allow one check to run ${DURATION}` },
  { name: 'init', type: 'bool', help: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'ip', type: 'string', valueName: 'string', help: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'ip6', type: 'string', valueName: 'string', help: 'IPv6 address (e.g., 2001:db8::33)' },
  { name: 'ipc', type: 'string', valueName: 'string', help: "IPC mode to use; 'host' is subject to policy" },
  { name: 'label-file', type: 'list', valueName: 'list', help: 'Read in a line delimited file of labels (artifact:ID; the CLI uploads a local file)' },
  { name: 'log-driver', type: 'string', valueName: 'string', help: 'Logging driver for the container' },
  { name: 'log-opt', type: 'list', valueName: 'list', help: 'Log driver options' },
  { name: 'mac-address', type: 'string', valueName: 'string', help: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { name: 'memory-swappiness', type: 'int', valueName: 'int', default: -1, help: 'Tune container memory swappiness (0 to 100)' },
  { name: 'network-alias', type: 'list', valueName: 'list', help: 'Add network-scoped alias for the container' },
  { name: 'no-healthcheck', type: 'bool', help: 'Disable any container-specified HEALTHCHECK' },
  { name: 'oom-kill-disable', type: 'bool', help: 'Disable OOM Killer' },
  { name: 'pid', type: 'string', valueName: 'string', help: "PID namespace to use; 'host' is subject to policy" },
  { name: 'platform', type: 'string', valueName: 'string', help: 'Set platform if server is multi-platform capable' },
  { name: 'read-only', type: 'bool', help: "Mount the container's root filesystem as read only" },
  { name: 'security-opt', type: 'list', valueName: 'list', help: 'Security Options (subject to policy)' },
  { name: 'shm-size', type: 'string', valueName: 'bytes', help: 'Size of /dev/shm' },
  { name: 'stop-signal', type: 'string', valueName: 'string', help: 'Signal to stop a container' },
  { name: 'stop-timeout', type: 'int', valueName: 'int', help: 'Timeout (in seconds) to stop a container' },
  { name: 'sysctl', type: 'list', valueName: 'map', help: 'Sysctl options' },
  { name: 'tmpfs', type: 'list', valueName: 'list', help: 'Mount a tmpfs directory' },
  { name: 'ulimit', type: 'list', valueName: 'ulimit', help: 'Ulimit options' },
  { name: 'userns', type: 'string', valueName: 'string', help: "User namespace to use; 'host' is subject to policy" },
  { name: 'uts', type: 'string', valueName: 'string', help: "UTS namespace to use; 'host' is subject to policy" },
];

/** The namespace modes docker's parse() accepts (container.PidMode.Valid and its kin). */
function namespaces(p: Parsed, path: string) {
  const get = (n: string) => (p.flags[n] as string) || undefined;
  const pid = get('pid');
  const pidParts = pid?.split(':') ?? [];
  if (pid !== undefined && !(pidParts[0] === 'host' || (pidParts[0] === 'container' && pidParts.length === 2 && pidParts[1] !== ''))) report('--pid: invalid PID mode', path);
  // docker 20.10 leaves an unknown IPC mode to the engine (it refuses at start); so does dockops.
  const ipc = get('ipc');
  const uts = get('uts');
  if (uts !== undefined && uts.split(':')[0] !== 'host') report('--uts: invalid UTS mode', path);
  const userns = get('userns');
  if (userns !== undefined && userns.split(':')[0] !== 'host') report('--userns: invalid USER mode', path);
  const cgroupns = get('cgroupns');
  if (cgroupns !== undefined && cgroupns !== 'host' && cgroupns !== 'private') report('--cgroupns: invalid CGROUP mode', path);
  return { PidMode: pid, IpcMode: ipc, UTSMode: uts, UsernsMode: userns, CgroupnsMode: cgroupns };
}

function duration(p: Parsed, name: string, path: string): number | undefined {
  if (!p.given.has(name)) return undefined;
  const raw = p.flags[name] as string;
  const ns = goDurationNs(raw);
  return typeof ns === 'string' ? badValue(raw, `--${name}`, ns, path) : ns;
}

function healthcheck(p: Parsed, path: string): ExtrasSpec['Healthcheck'] {
  const cmd = p.flags['health-cmd'] as string;
  const interval = duration(p, 'health-interval', path) ?? 0;
  const timeout = duration(p, 'health-timeout', path) ?? 0;
  const start = duration(p, 'health-start-period', path) ?? 0;
  const retries = p.flags['health-retries'] as number;
  const any = cmd !== '' || interval !== 0 || timeout !== 0 || start !== 0 || retries !== 0;
  if (p.flags['no-healthcheck']) {
    if (any) report('--no-healthcheck conflicts with --health-* options', path);
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  if (interval < 0) report('--health-interval cannot be negative', path);
  if (timeout < 0) report('--health-timeout cannot be negative', path);
  if (retries < 0) report('--health-retries cannot be negative', path);
  if (start < 0) report('--health-start-period cannot be negative', path);
  // CMD-SHELL: the engine runs it with the container's own shell, inside the container.
  return { Test: cmd ? ['CMD-SHELL', cmd] : undefined, Interval: interval, Timeout: timeout, StartPeriod: start, Retries: retries };
}

/** validateAttach: stdin, stdout or stderr in any case, kept lower-cased. */
function attachStream(raw: string, path: string): 'stdin' | 'stdout' | 'stderr' {
  const s = raw.toLowerCase();
  if (s !== 'stdin' && s !== 'stdout' && s !== 'stderr') badValue(raw, '-a, --attach', 'valid streams are STDIN, STDOUT and STDERR', path);
  return s as 'stdin' | 'stdout' | 'stderr';
}

/** parseStorageOpts: KEY=VALUE, split at the first '='. */
function storageOpt(raw: string, path: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq < 0) report('invalid storage option', path);
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

/** The flags of EXTRA_FLAGS given, as Engine API fields; docker's errors (exit 125) for bad values. */
export function parseExtras(p: Parsed, path: string): ExtrasSpec {
  const given = (n: string) => p.given.has(n);
  const list = (n: string) => (p.flags[n] as string[]) ?? [];
  const nonEmpty = <T,>(xs: T[]) => (xs.length ? xs : undefined);
  const swappiness = p.flags['memory-swappiness'] as number;
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) report(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`, path);
  const mac = (p.flags['mac-address'] as string) || undefined;
  if (mac !== undefined && !isMac(mac)) report(`${mac} is not a valid mac address`, path);
  const logDriver = p.flags['log-driver'] as string;
  const logOpts = list('log-opt');
  if (logDriver === 'none' && logOpts.length) report(`invalid logging opts for driver ${logDriver}`, path);
  const tmpfs: Record<string, string> = {};
  for (const t of list('tmpfs')) {
    const colon = t.indexOf(':');
    tmpfs[colon >= 0 ? t.slice(0, colon) : t] = colon >= 0 ? t.slice(colon + 1) : '';
  }
  // UlimitOpt keeps one limit per name: a later one replaces an earlier.
  const ulimits = new Map<string, z.infer<typeof Ulimit>>();
  for (const u of list('ulimit')) {
    const parsed = parseUlimit(u, path);
    ulimits.set(parsed.Name, parsed);
  }
  const extras: ExtrasSpec = {
    Healthcheck: healthcheck(p, path),
    StopSignal: given('stop-signal') ? (p.flags['stop-signal'] as string) : undefined,
    StopTimeout: given('stop-timeout') ? (p.flags['stop-timeout'] as number) : undefined,
    MacAddress: mac,
    expose: nonEmpty(list('expose').flatMap((e) => parseExpose(e, path))),
    ExtraHosts: nonEmpty(
      list('add-host').map((h) => {
        const colon = h.indexOf(':');
        if (colon <= 0) badValue(h, '--add-host', `bad format for add-host: ${JSON.stringify(h)}`, path);
        const ip = h.slice(colon + 1);
        if (ip !== 'host-gateway' && canonicalIp(ip.trim()) === undefined) badValue(h, '--add-host', `invalid IP address in add-host: ${JSON.stringify(ip)}`, path);
        return h;
      }),
    ),
    // Dns, DnsSearch, DnsOptions and Devices are sent empty when not given, as the docker CLI does.
    Dns: list('dns').map((d) => canonicalIp(d.trim()) ?? badValue(d, '--dns', `${d} is not an ip address`, path)),
    DnsSearch: list('dns-search').map((d) => dnsSearch(d, path)),
    DnsOptions: [...list('dns-option'), ...list('dns-opt')],
    Init: given('init') ? (p.flags.init as boolean) : undefined,
    ReadonlyRootfs: given('read-only') ? (p.flags['read-only'] as boolean) : undefined,
    ShmSize: given('shm-size') ? ramInBytes(p.flags['shm-size'] as string, '--shm-size', path) : undefined,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    Ulimits: ulimits.size ? [...ulimits.values()] : undefined,
    CapDrop: nonEmpty(list('cap-drop')),
    MemorySwappiness: swappiness === -1 ? undefined : swappiness,
    OomKillDisable: given('oom-kill-disable') ? (p.flags['oom-kill-disable'] as boolean) : undefined,
    LogConfig: logDriver || logOpts.length ? { Type: logDriver, Config: kvMap(logOpts) } : undefined,
    GroupAdd: nonEmpty(list('group-add')),
    Sysctls: list('sysctl').length ? Object.fromEntries(list('sysctl').map((s) => sysctl(s, path))) : undefined,
    ...namespaces(p, path),
    Devices: list('device').map((d) => parseDevice(d, path)),
    SecurityOpt: nonEmpty(list('security-opt').map((s) => securityOpt(s, path))),
    Domainname: (p.flags.domainname as string) || undefined,
    attach: nonEmpty(list('attach').map((a) => attachStream(a, path))),
    OomScoreAdj: given('oom-score-adj') ? (p.flags['oom-score-adj'] as number) : undefined,
    Runtime: (p.flags.runtime as string) || undefined,
    Isolation: (p.flags.isolation as string) || undefined,
    StorageOpt: list('storage-opt').length ? Object.fromEntries(list('storage-opt').map((o) => storageOpt(o, path))) : undefined,
    VolumeDriver: (p.flags['volume-driver'] as string) || undefined,
    CgroupParent: (p.flags['cgroup-parent'] as string) || undefined,
    DeviceCgroupRules: nonEmpty(list('device-cgroup-rule').map((r) => deviceCgroupRule(r, path))),
    // Sent empty when not given, as the docker CLI does.
    BlkioWeightDevice: list('blkio-weight-device').map((w) => weightDevice(w, path)),
    BlkioDeviceReadBps: nonEmpty(list('device-read-bps').map((v) => throttleBps(v, '--device-read-bps', path))),
    BlkioDeviceWriteBps: nonEmpty(list('device-write-bps').map((v) => throttleBps(v, '--device-write-bps', path))),
    BlkioDeviceReadIOps: nonEmpty(list('device-read-iops').map((v) => throttleIops(v, '--device-read-iops', path))),
    BlkioDeviceWriteIOps: nonEmpty(list('device-write-iops').map((v) => throttleIops(v, '--device-write-iops', path))),
    DeviceRequests: nonEmpty(list('gpus').map((g) => parseGpus(g, path))),
    aliases: nonEmpty(list('network-alias')),
    ipv4: (p.flags.ip as string) || undefined,
    ipv6: (p.flags.ip6 as string) || undefined,
    linkLocalIps: nonEmpty(list('link-local-ip')),
    platform: (p.flags.platform as string) || undefined,
    labelFile: nonEmpty(list('label-file').map((f) => {
      const m = /^artifact:([0-9a-f]{24})$/.exec(f);
      if (!m) throw new UsageError(`--label-file ${f}: dockops reads uploaded files only: give artifact:ID (\`dockops docker run --label-file FILE …\` uploads it for you)\n${seeHelp(path)}`);
      return (m as RegExpExecArray)[1];
    })),
  };
  return Object.fromEntries(Object.entries(extras).filter(([, v]) => v !== undefined)) as ExtrasSpec;
}
