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

export const Ulimit = z.object({ Name: z.string(), Soft: z.number().int(), Hard: z.number().int() });
export const Device = z.object({ PathOnHost: z.string(), PathInContainer: z.string(), CgroupPermissions: z.string() });

/** pflag's refusal of a flag's value: `invalid argument "X" for "--flag" flag: why`. */
export function badValue(raw: string, flag: string, why: string, path: string): never {
  throw new UsageError(`invalid argument "${raw}" for "${flag}" flag: ${why}\n${seeHelp(path)}`);
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
