/**
 * The flags of `docker run`/`create` beyond the basics and the resource limits: DNS and hosts,
 * health checks, namespaces, ulimits, tmpfs, logging, devices, security options. Read with the
 * docker 20.10 CLI's rules (cli/command/container/opts.go) and words, and kept as the Engine API
 * fields they become. The risky ones (host namespaces, devices, security options) are left to the
 * policy (src/policy/index.ts), which reads them from here.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../../errors.js';
import { seeHelp, type FlagDef, type Parsed } from '../parse.js';
import { ramInBytes } from './resources.js';
import { canonicalIp, goDurationNs, goParseInt10, goParseUint16, isMac } from './go-values.js';

const Ulimit = z.object({ Name: z.string(), Soft: z.number().int(), Hard: z.number().int() });
const Device = z.object({ PathOnHost: z.string(), PathInContainer: z.string(), CgroupPermissions: z.string() });

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
  // The endpoint on --network, and the create query
  aliases: z.array(z.string()).optional(),
  ipv4: z.string().optional(),
  ipv6: z.string().optional(),
  platform: z.string().optional(),
  /** --label-file: uploaded files (artifact ids) read by the worker, as --env-file is. */
  labelFile: z.array(z.string().regex(/^[0-9a-f]{24}$/)).optional(),
});
export type ExtrasSpec = z.infer<typeof ExtrasSpec>;

/** The fields of ExtrasSpec that go in the create body's Config and HostConfig as they are. */
export const CONFIG_FIELDS = ['Healthcheck', 'StopSignal', 'StopTimeout', 'MacAddress'] as const;
export const HOST_CONFIG_FIELDS = [
  'ExtraHosts', 'Dns', 'DnsSearch', 'DnsOptions', 'Init', 'ReadonlyRootfs', 'ShmSize', 'Tmpfs', 'Ulimits', 'CapDrop', 'MemorySwappiness', 'OomKillDisable',
  'LogConfig', 'GroupAdd', 'Sysctls', 'PidMode', 'IpcMode', 'UTSMode', 'UsernsMode', 'CgroupnsMode', 'Devices', 'SecurityOpt',
] as const;

const DURATION = '(ms|s|m|h) (default 0s)';

export const EXTRA_FLAGS: FlagDef[] = [
  { name: 'add-host', type: 'list', valueName: 'list', help: 'Add a custom host-to-IP mapping (host:ip)' },
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

/** pflag's refusal of a flag's value: `invalid argument "X" for "--flag" flag: why`. */
function badValue(raw: string, flag: string, why: string, path: string): never {
  throw new UsageError(`invalid argument "${raw}" for "${flag}" flag: ${why}\n${seeHelp(path)}`);
}

/** docker's reportError for what its parse() refuses: `docker: why.` and the pointer to help. */
function report(why: string, path: string): never {
  throw new UsageError(`docker: ${why}${why.endsWith('.') ? '' : '.'}\n${seeHelp(path)}`);
}

// go-units' ulimitNameMapping ("as" is left out there too).
const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** units.ParseUlimit: `name=soft[:hard]`, hard defaulting to soft. */
export function parseUlimit(raw: string, path: string): z.infer<typeof Ulimit> {
  const eq = raw.indexOf('=');
  if (eq < 0) badValue(raw, '--ulimit', `invalid ulimit argument: ${raw}`, path);
  const name = raw.slice(0, eq);
  if (!ULIMITS.has(name)) badValue(raw, '--ulimit', `invalid ulimit type: ${name}`, path);
  const vals = raw.slice(eq + 1).split(':');
  if (vals.length > 2) badValue(raw, '--ulimit', `too many limit value arguments - ${raw.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``, path);
  const num = (s: string) => {
    const n = goParseInt10(s);
    return typeof n === 'string' ? badValue(raw, '--ulimit', n, path) : n;
  };
  const hard = vals.length === 2 ? num(vals[1]) : undefined;
  const soft = num(vals[0]);
  const h = hard ?? soft;
  if (h !== -1 && soft > h) badValue(raw, '--ulimit', `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${h}`, path);
  return { Name: name, Soft: soft, Hard: h };
}

/** Go's path.Clean. */
function goClean(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** validateDevice (validateLinuxPath) then parseLinuxDevice: `host[:container][:rwm]`, checked in docker's parse(). */
export function parseDevice(raw: string, path: string): z.infer<typeof Device> {
  const mode = (m: string) => m !== '' && /^[rwm]+$/.test(m) && new Set(m).size === m.length;
  const split = raw.split(':');
  if (split.length > 3 || split[0] === '') report(`bad format for path: ${raw}`, path);
  let host = split[0];
  let inContainer = split[0];
  let perms = 'rwm';
  if (split.length === 1) host = inContainer = goClean(split[0]);
  else if (split.length === 2 && mode(split[1])) {
    host = inContainer = goClean(split[0]);
    perms = split[1];
  } else if (split.length === 2) inContainer = goClean(split[1]);
  else {
    if (!mode(split[2])) report(`bad mode specified: ${split[2]}`, path);
    inContainer = split[1];
    perms = split[2];
  }
  if (!inContainer.startsWith('/')) report(`${inContainer} is not an absolute path`, path);
  return { PathOnHost: host, PathInContainer: inContainer, CgroupPermissions: perms };
}

/** --expose `PORT[/PROTO]` or `START-END[/PROTO]`, as nat.SplitProtoPort and nat.ParsePortRange read it. */
export function parseExpose(raw: string, path: string): string[] {
  if (raw.includes(':')) report(`invalid port format for --expose: ${raw}`, path);
  const parts = raw.split('/');
  const [port, proto] = raw === '' || parts[0] === '' ? ['', ''] : parts.length === 1 || parts[1] === '' ? [parts[0], 'tcp'] : [parts[0], parts[1]];
  const bad = (why: string): never => report(`invalid range format for --expose: ${raw}, error: ${why}`, path);
  if (port === '') bad('Empty string specified for ports.');
  const ends = port.includes('-') ? port.split('-').slice(0, 2) : [port, port];
  const [start, end] = ends.map((e) => {
    const n = goParseUint16(e);
    return typeof n === 'string' ? bad(n) : n;
  });
  if (end < start) bad(`Invalid range specified for the Port: ${port}`);
  const out: string[] = [];
  for (let i = start; i <= end; i++) out.push(`${i}/${proto}`);
  return out;
}

/** opts.ValidateDNSSearch: a domain (its trailing dot dropped) or ".". */
function dnsSearch(raw: string, path: string): string {
  const v = raw.replace(/^ +| +$/g, '');
  if (v === '.') return v;
  const label = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
  const m = new RegExp(`^(${label}(?:\\.${label})*)\\.?\\s*$`).exec(v);
  if (!/[a-zA-Z]/.test(v) || !m || m[1].length >= 255) badValue(raw, '--dns-search', `${v} is not a valid domain`, path);
  return (m as RegExpExecArray)[1];
}

/** opts.ValidateSysctl: the namespaced sysctls docker lets through. */
function sysctl(raw: string, path: string): [string, string] {
  const key = raw.split('=')[0];
  const known = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];
  if (!raw.includes('=') || !(known.includes(key) || key.startsWith('net.') || key.startsWith('fs.mqueue.'))) badValue(raw, '--sysctl', `sysctl '${raw}' is not whitelisted`, path);
  const eq = raw.indexOf('=');
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

/** --security-opt as parseSecurityOpts reads it; a seccomp profile would be a file of the dockops host, so refused. */
function securityOpt(raw: string, path: string): string {
  let kv = raw.split(/=(.*)/s);
  if (!raw.includes('=') && raw !== 'no-new-privileges') {
    if (!raw.includes(':')) report(`Invalid --security-opt: ${JSON.stringify(raw)}`, path);
    kv = raw.split(/:(.*)/s);
  }
  if (kv[0] === 'seccomp' && kv[1] !== 'unconfined') {
    report(`--security-opt ${raw}: dockops does not read seccomp profiles: the path would be a file on the dockops host, not yours`, path);
  }
  return raw;
}

/** `KEY=VALUE` pairs into a map (opts.ConvertKVStringsToMap): a bare key gets "". */
function kvMap(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list) {
    const eq = s.indexOf('=');
    out[eq >= 0 ? s.slice(0, eq) : s] = eq >= 0 ? s.slice(eq + 1) : '';
  }
  return out;
}

/** The namespace modes docker's parse() accepts (container.PidMode.Valid and its kin). */
function namespaces(p: Parsed, path: string) {
  const get = (n: string) => (p.flags[n] as string) || undefined;
  const pid = get('pid');
  if (pid !== undefined && !(pid === 'host' || /^container:.+$/.test(pid))) report('--pid: invalid PID mode', path);
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

/** The flags of EXTRA_FLAGS given, as Engine API fields; docker's errors (exit 125) for bad values. */
export function parseExtras(p: Parsed, path: string): ExtrasSpec {
  const given = (n: string) => p.given.has(n);
  const list = (n: string) => (p.flags[n] as string[]) ?? [];
  const nonEmpty = (xs: string[]) => (xs.length ? xs : undefined);
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
    aliases: nonEmpty(list('network-alias')),
    ipv4: (p.flags.ip as string) || undefined,
    ipv6: (p.flags.ip6 as string) || undefined,
    platform: (p.flags.platform as string) || undefined,
    labelFile: nonEmpty(list('label-file').map((f) => {
      const m = /^artifact:([0-9a-f]{24})$/.exec(f);
      if (!m) throw new UsageError(`--label-file ${f}: dockops reads uploaded files only: give artifact:ID (\`dockops docker run --label-file FILE …\` uploads it for you)\n${seeHelp(path)}`);
      return (m as RegExpExecArray)[1];
    })),
  };
  return Object.fromEntries(Object.entries(extras).filter(([, v]) => v !== undefined)) as ExtrasSpec;
}
