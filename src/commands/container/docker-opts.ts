/**
 * The value readers of docker's opts package (and go-units, go-connections/nat) that `run` and
 * `create` use, with the docker CLI's words: a refused value throws a UsageError (exit 125),
 * worded as pflag words it (`invalid argument …`) or as docker's parse() does (`docker: ….`).
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../../errors.js';
import { seeHelp } from '../parse.js';
import { goParseInt10, goParseUint16 } from './go-values.js';
import { ramBytes } from './resources.js';

export const Ulimit = z.object({ Name: z.string(), Soft: z.number().int(), Hard: z.number().int() });
export const Device = z.object({ PathOnHost: z.string(), PathInContainer: z.string(), CgroupPermissions: z.string() });
export const WeightDevice = z.object({ Path: z.string(), Weight: z.number().int() });
export const ThrottleDevice = z.object({ Path: z.string(), Rate: z.number().int() });
export const DeviceRequest = z.object({
  Driver: z.string(),
  Count: z.number().int(),
  DeviceIDs: z.array(z.string()).nullable(),
  Capabilities: z.array(z.array(z.string())),
  Options: z.record(z.string(), z.string()),
});

/** pflag's refusal of a flag's value: `invalid argument "X" for "--flag" flag: why` (X quoted as Go's %q). */
export function badValue(raw: string, flag: string, why: string, path: string): never {
  throw new UsageError(`invalid argument ${JSON.stringify(raw)} for "${flag}" flag: ${why}\n${seeHelp(path)}`);
}

/** docker's reportError for what its parse() refuses: `docker: why.` and the pointer to help. */
export function report(why: string, path: string): never {
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
export function dnsSearch(raw: string, path: string): string {
  const v = raw.replace(/^ +| +$/g, '');
  if (v === '.') return v;
  const label = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
  const m = new RegExp(`^(${label}(?:\\.${label})*)\\.?\\s*$`).exec(v);
  if (!/[a-zA-Z]/.test(v) || !m || m[1].length >= 255) badValue(raw, '--dns-search', `${v} is not a valid domain`, path);
  return (m as RegExpExecArray)[1];
}

/** opts.ValidateSysctl: the namespaced sysctls docker lets through. */
export function sysctl(raw: string, path: string): [string, string] {
  const key = raw.split('=')[0];
  const known = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];
  if (!raw.includes('=') || !(known.includes(key) || key.startsWith('net.') || key.startsWith('fs.mqueue.'))) badValue(raw, '--sysctl', `sysctl '${raw}' is not whitelisted`, path);
  const eq = raw.indexOf('=');
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

/** --security-opt as parseSecurityOpts reads it; a seccomp profile would be a file of the dockops host, so refused. */
export function securityOpt(raw: string, path: string): string {
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

// validateDeviceCgroupRule's regexp: `type major:minor mode`.
const DEVICE_CGROUP_RULE = /^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/;

/** --device-cgroup-rule, checked as docker's ListOpts validator does. */
export function deviceCgroupRule(raw: string, path: string): string {
  if (!DEVICE_CGROUP_RULE.test(raw)) badValue(raw, '--device-cgroup-rule', `invalid device cgroup format '${raw}'`, path);
  return raw;
}

/** The shared start of ValidateWeightDevice and ValidateThrottle*Device: `/dev/…:VALUE`. */
function devicePair(raw: string, flag: string, path: string): [string, string] {
  const colon = raw.indexOf(':');
  if (colon < 0) badValue(raw, flag, `bad format: ${raw}`, path);
  const dev = raw.slice(0, colon);
  if (!dev.startsWith('/dev/')) badValue(raw, flag, `bad format for device path: ${raw}`, path);
  return [dev, raw.slice(colon + 1)];
}

/** opts.ValidateWeightDevice: `/dev/PATH:WEIGHT`, WEIGHT 0 or 10..1000 (strconv.ParseUint base 10). */
export function weightDevice(raw: string, path: string): z.infer<typeof WeightDevice> {
  const [dev, w] = devicePair(raw, '--blkio-weight-device', path);
  const n = /^\d+$/.test(w) && BigInt(w) < 2n ** 64n ? Number(w) : -1;
  if (n < 0 || (n > 0 && (n < 10 || n > 1000))) badValue(raw, '--blkio-weight-device', `invalid weight for device: ${raw}`, path);
  return { Path: dev, Weight: n };
}

/** opts.ValidateThrottleBpsDevice: `/dev/PATH:RATE`, RATE a go-units RAMInBytes size (1mb, 512k, 1024). */
export function throttleBps(raw: string, flag: string, path: string): z.infer<typeof ThrottleDevice> {
  const [dev, r] = devicePair(raw, flag, path);
  const n = ramBytes(r);
  if (n === undefined || n < 0) {
    badValue(raw, flag, `invalid rate for device: ${raw}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`, path);
  }
  return { Path: dev, Rate: n as number };
}

/** opts.ValidateThrottleIOpsDevice: `/dev/PATH:N`, N an unsigned integer (base 10). */
export function throttleIops(raw: string, flag: string, path: string): z.infer<typeof ThrottleDevice> {
  const [dev, r] = devicePair(raw, flag, path);
  if (!/^\d+$/.test(r) || BigInt(r) >= 2n ** 64n) badValue(raw, flag, `invalid rate for device: ${raw}. The correct format is <device-path>:<number>. Number must be a positive integer`, path);
  return { Path: dev, Rate: Number(r) };
}

/** One line of Go's encoding/csv (comma-separated, `"` quoting with `""`), or Go's error text. */
export function goCsvLine(line: string): string[] | string {
  if (line === '') return 'EOF';
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let field = '';
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) return `parse error on line 1, column ${line.length + 1}: extraneous or missing " in quoted-field`;
        field += line.slice(j, q);
        if (line[q + 1] === '"') {
          field += '"';
          j = q + 2;
          continue;
        }
        if (q + 1 < line.length && line[q + 1] !== ',') return `parse error on line 1, column ${q + 1}: extraneous or missing " in quoted-field`;
        i = q + 1;
        break;
      }
      out.push(field);
    } else {
      const c = line.indexOf(',', i);
      const field = c < 0 ? line.slice(i) : line.slice(i, c);
      const bare = field.indexOf('"');
      if (bare >= 0) return `parse error on line 1, column ${i + bare + 1}: bare " in non-quoted-field`;
      out.push(field);
      i = c < 0 ? line.length : c;
    }
    if (i >= line.length) return out;
    i++; // the comma
    if (i === line.length) {
      out.push('');
      return out;
    }
  }
}

/**
 * opts.GpuOpts.Set: `all`, `N`, or CSV of count=, device=, driver=, capabilities=, options=;
 * a field without `=` is the count. Count defaults to 1 unless devices are named; `gpu` is
 * always among the capabilities.
 */
export function parseGpus(raw: string, path: string): z.infer<typeof DeviceRequest> {
  const bad = (why: string): never => badValue(raw, '--gpus', why, path);
  const fields = goCsvLine(raw);
  if (typeof fields === 'string') bad(fields);
  const count = (s: string) => {
    if (s === 'all') return -1;
    const n = /^[+-]?\d+$/.test(s) && Math.abs(Number(s)) < 2 ** 63 ? Number(s) : undefined;
    return n ?? bad(`count must be an integer: strconv.Atoi: parsing ${JSON.stringify(s)}: ${/^[+-]?\d+$/.test(s) ? 'value out of range' : 'invalid syntax'}`);
  };
  const req: z.infer<typeof DeviceRequest> = { Driver: '', Count: 0, DeviceIDs: null, Capabilities: [], Options: {} };
  const seen = new Set<string>();
  for (const field of fields as string[]) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? field : field.slice(0, eq);
    if (seen.has(key)) bad(`gpu request key '${key}' can be specified only once`);
    seen.add(key);
    if (eq < 0) {
      seen.add('count');
      req.Count = count(key);
      continue;
    }
    const value = field.slice(eq + 1);
    if (key === 'driver') req.Driver = value;
    else if (key === 'count') req.Count = count(value);
    else if (key === 'device') req.DeviceIDs = value.split(',');
    else if (key === 'capabilities') req.Capabilities = [[...value.split(','), 'gpu']];
    else if (key === 'options') {
      const opts = goCsvLine(value);
      if (typeof opts === 'string') bad(`failed to read gpu options: ${opts}`);
      req.Options = Object.fromEntries((opts as string[]).map((o) => (o.includes('=') ? [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)] : [o, ''])));
    } else bad(`unexpected key '${key}' in '${field}'`);
  }
  if (!seen.has('count') && req.DeviceIDs === null) req.Count = 1;
  if (!req.Capabilities.length) req.Capabilities = [['gpu']];
  return req;
}
