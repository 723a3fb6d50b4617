import { z } from 'zod';
import { UsageError } from '../../errors.js';
import type { FlagDef, Parsed } from '../parse.js';
import { isValidRef } from '../../docker/refs.js';
import { RESOURCE_FLAGS, ResourcesSpec, parseResources, ramBytes } from './resources.js';
import { CONFIG_FIELDS, EXTRA_FLAGS, ExtrasSpec, HOST_CONFIG_FIELDS, parseExtras } from './run-extras.js';

/** A published port: `-p [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`. */
export const PortSpec = z.object({
  ip: z.string(),
  hostPort: z.string(),
  containerPort: z.number().int().min(1).max(65535),
  proto: z.enum(['tcp', 'udp', 'sctp']),
});
export type PortSpec = z.infer<typeof PortSpec>;

/** A mount from `-v`: a named volume, an anonymous volume, or a bind of a host path. */
export const MountSpec = z.object({
  type: z.enum(['volume', 'bind', 'tmpfs']),
  source: z.string(),
  target: z.string().startsWith('/'),
  readOnly: z.boolean(),
  /** From --mount (the Engine's Mounts API) rather than -v (Binds). */
  api: z.boolean().default(false),
  tmpfsSize: z.number().int().positive().optional(),
});
export type MountSpec = z.infer<typeof MountSpec>;

/** What `create` and `run` share: everything about the container to make. */
export const ContainerConfigSpec = z.object({
  image: z.string().min(1),
  cmd: z.array(z.string()),
  entrypoint: z.string().optional(),
  name: z.string().optional(),
  env: z.array(z.string()),
  workdir: z.string().optional(),
  user: z.string().optional(),
  hostname: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  ports: z.array(PortSpec),
  publishAll: z.boolean(),
  mounts: z.array(MountSpec),
  network: z.string().optional(),
  restart: z.string().optional(),
  /** -m, --cpus, -c and the other resource flags `update` has, as Engine API fields. */
  resources: ResourcesSpec,
  /** --dns, --health-*, --ulimit, --pid and the other flags of run-extras.ts, as Engine API fields. */
  extras: ExtrasSpec.default({}),
  privileged: z.boolean(),
  capAdd: z.array(z.string()),
  volumesFrom: z.array(z.string()),
  links: z.array(z.string()),
  /** --env-file: an uploaded file (artifact id) read by the worker, so its values stay out of Redis. */
  envFile: z.array(z.string().regex(/^[0-9a-f]{24}$/)),
  rm: z.boolean(),
  pull: z.enum(['missing', 'always', 'never']),
});
export type ContainerConfigSpec = z.infer<typeof ContainerConfigSpec>;

export const CONTAINER_FLAGS: FlagDef[] = [
  { name: 'cap-add', type: 'list', valueName: 'list', help: 'Add Linux capabilities (subject to policy)' },
  { name: 'entrypoint', type: 'string', valueName: 'string', help: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'env', short: 'e', type: 'list', valueName: 'list', help: 'Set environment variables' },
  { name: 'env-file', type: 'list', valueName: 'list', help: 'Read in a file of environment variables (artifact:ID; the CLI uploads a local file)' },
  { name: 'link', type: 'list', valueName: 'list', help: 'Add link to another container (name:alias)' },
  { name: 'mount', type: 'list', valueName: 'mount', help: 'Attach a filesystem mount to the container (type=volume|bind|tmpfs,…)' },
  { name: 'volumes-from', type: 'list', valueName: 'list', help: 'Mount volumes from the specified container(s)' },
  { name: 'hostname', short: 'h', type: 'string', valueName: 'string', help: 'Container host name' },
  { name: 'interactive', short: 'i', type: 'bool', help: 'Accepted; dockops has no terminal, so STDIN stays closed' },
  { name: 'label', short: 'l', type: 'list', valueName: 'list', help: 'Set meta data on a container' },
  { name: 'name', type: 'string', valueName: 'string', help: 'Assign a name to the container' },
  { name: 'network', type: 'string', valueName: 'network', help: 'Connect a container to a network' },
  { name: 'net', type: 'string', valueName: 'network', help: 'Connect a container to a network', hidden: true },
  { name: 'privileged', type: 'bool', help: 'Give extended privileges to this container (subject to policy)' },
  { name: 'publish', short: 'p', type: 'list', valueName: 'list', help: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', type: 'bool', help: 'Publish all exposed ports to random ports' },
  { name: 'pull', type: 'string', valueName: 'string', default: 'missing', help: 'Pull image before running ("always"|"missing"|"never")' },
  { name: 'restart', type: 'string', valueName: 'string', default: 'no', help: 'Restart policy to apply when a container exits' },
  { name: 'rm', type: 'bool', help: 'Automatically remove the container when it exits' },
  { name: 'tty', short: 't', type: 'bool', help: 'Accepted; dockops has no terminal, output is captured as is' },
  { name: 'user', short: 'u', type: 'string', valueName: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'volume', short: 'v', type: 'list', valueName: 'list', help: 'Bind mount a volume' },
  { name: 'workdir', short: 'w', type: 'string', valueName: 'string', help: 'Working directory inside the container' },
  ...RESOURCE_FLAGS,
  ...EXTRA_FLAGS,
];

function fail(msg: string, path: string): never {
  throw new UsageError(`${msg}\nSee 'docker ${path} --help'.`);
}

/** `-p` in every form the seed uses: `IP:host:container`, `IP::container`, `host:container`, `/udp`. */
export function parsePort(raw: string, path: string): PortSpec[] {
  let rest = raw;
  let proto: PortSpec['proto'] = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1);
    if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') fail(`invalid proto: ${p}`, path);
    proto = p as PortSpec['proto'];
    rest = rest.slice(0, slash);
  }
  let ip = '';
  let host = '';
  let container = rest;
  const ipv6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (ipv6) {
    ip = ipv6[1];
    const parts = ipv6[2].split(':');
    if (parts.length !== 2) fail(`invalid port format for --publish: ${raw}`, path);
    [host, container] = parts;
  } else {
    const parts = rest.split(':');
    if (parts.length === 3) [ip, host, container] = parts;
    else if (parts.length === 2) [host, container] = parts;
    else if (parts.length !== 1) fail(`invalid port format for --publish: ${raw}`, path);
  }
  if (ip && !/^(\d{1,3}\.){3}\d{1,3}$|:/.test(ip)) fail(`invalid IP address: ${ip}`, path);
  const range = (r: string, what: string): [number, number] => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(r);
    const a = Number(m?.[1]);
    const b = m?.[2] ? Number(m[2]) : a;
    if (!m || a < 1 || b > 65535 || b < a) fail(`invalid ${what}: ${r}`, path);
    return [a, b];
  };
  const [c0, c1] = range(container, 'containerPort');
  const [h0, h1] = host ? range(host, 'hostPort') : [0, 0];
  if (host && h1 - h0 !== c1 - c0 && h0 !== h1) fail(`invalid ranges specified for container and host Ports: ${container} and ${host}`, path);
  const out: PortSpec[] = [];
  for (let i = 0; i <= c1 - c0; i++) {
    const hostPort = !host ? '' : h0 === h1 && c1 !== c0 ? String(h0) : String(h0 + i);
    out.push({ ip, hostPort, containerPort: c0 + i, proto });
  }
  return out;
}

/** `-v name:/path[:ro]`, `-v /host:/path[:ro]`, `-v /path` (anonymous volume). */
export function parseVolume(raw: string, path: string): MountSpec {
  const parts = raw.split(':');
  let readOnly = false;
  if (parts.length === 3 || (parts.length === 2 && /^(ro|rw|z|Z)(,(ro|rw|z|Z))*$/.test(parts[1]) && !parts[1].startsWith('/'))) {
    const mode = parts.pop() as string;
    readOnly = mode.split(',').includes('ro');
  }
  if (parts.length === 1) {
    if (!parts[0].startsWith('/')) fail(`invalid volume specification: '${raw}'`, path);
    return { type: 'volume', source: '', target: parts[0], readOnly, api: false };
  }
  if (parts.length !== 2) fail(`invalid volume specification: '${raw}'`, path);
  const [source, target] = parts;
  if (!target.startsWith('/')) fail(`invalid volume specification: '${raw}': invalid mount config: the mount destination must be an absolute path`, path);
  if (source.startsWith('/')) return { type: 'bind', source, target, readOnly, api: false };
  if (source.startsWith('.') || source.startsWith('~')) fail(`invalid volume specification: '${raw}': a host path must be absolute`, path);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(source)) fail(`invalid volume name "${source}"`, path);
  return { type: 'volume', source, target, readOnly, api: false };
}

/** `--mount type=volume,source=x,target=/data,readonly`, as docker reads it (csv of key=value). */
const MOUNT_KEYS = new Set(['type', 'source', 'src', 'target', 'destination', 'dst', 'readonly', 'ro', 'tmpfs-size', 'consistency']);
const DOCKER_ONLY_MOUNT_KEYS = new Set(['bind-propagation', 'bind-nonrecursive', 'volume-driver', 'volume-label', 'volume-nocopy', 'volume-opt', 'tmpfs-mode']);

export function parseMount(raw: string, path: string): MountSpec {
  const kv = new Map<string, string>();
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    const k = (eq >= 0 ? part.slice(0, eq) : part).trim().toLowerCase();
    kv.set(k, eq >= 0 ? part.slice(eq + 1).trim() : 'true');
    // A key dockops would drop must not pass silently: the mount would not be what was asked.
    if (!MOUNT_KEYS.has(k)) {
      if (DOCKER_ONLY_MOUNT_KEYS.has(k)) {
        fail(`invalid argument "${raw}" for "--mount" flag: dockops does not support the key '${k}'${k === 'volume-opt' || k === 'volume-driver' ? ' (create the volume first with `docker volume create -d DRIVER -o KEY=VALUE NAME`, then mount it by name)' : ''}`, path);
      }
      fail(`invalid argument "${raw}" for "--mount" flag: unexpected key '${k}' in '${part.trim()}'`, path);
    }
  }
  const type = kv.get('type') ?? 'volume';
  if (!['volume', 'bind', 'tmpfs'].includes(type)) fail(`invalid argument "${raw}" for "--mount" flag: invalid mount type: "${type}" (dockops: volume, bind or tmpfs)`, path);
  const target = kv.get('target') ?? kv.get('destination') ?? kv.get('dst') ?? '';
  if (!target.startsWith('/')) fail(`invalid argument "${raw}" for "--mount" flag: target is required and must be an absolute path`, path);
  const source = kv.get('source') ?? kv.get('src') ?? '';
  if (type === 'bind' && !source.startsWith('/')) fail(`invalid argument "${raw}" for "--mount" flag: a bind source must be an absolute host path`, path);
  if (type === 'tmpfs' && source) fail(`invalid argument "${raw}" for "--mount" flag: tmpfs takes no source`, path);
  const ro = kv.get('readonly') ?? kv.get('ro');
  const size = kv.get('tmpfs-size');
  return {
    type: type as MountSpec['type'],
    source,
    target,
    readOnly: ro === 'true' || ro === '1',
    api: true,
    tmpfsSize: size ? tmpfsBytes(size, raw, path) : undefined,
  };
}

// docker's MountOpt reads tmpfs-size with units.RAMInBytes and words a failure its own way.
function tmpfsBytes(size: string, raw: string, path: string): number {
  const n = ramBytes(size);
  if (n === undefined) fail(`invalid argument "${raw}" for "--mount" flag: invalid value for tmpfs-size: ${size}`, path);
  return n as number;
}

/** Reads the flags `create` and `run` share into a ContainerConfigSpec. */
export function containerConfig(p: Parsed, path: string): ContainerConfigSpec {
  const [image, ...cmd] = p.args;
  if (!isValidRef(image)) fail(`invalid reference format: repository name must be lowercase`, path);
  const name = (p.flags.name as string) || undefined;
  if (name !== undefined && !/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) {
    fail(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, path);
  }
  const labels: Record<string, string> = {};
  for (const l of p.flags.label as string[]) {
    const eq = l.indexOf('=');
    labels[eq >= 0 ? l.slice(0, eq) : l] = eq >= 0 ? l.slice(eq + 1) : '';
  }
  for (const k of Object.keys(labels)) if (k.startsWith('dockops.')) fail(`the label prefix "dockops." is reserved for dockops itself`, path);
  for (const e of p.flags.env as string[]) {
    if (e.startsWith('=')) fail(`invalid environment variable: ${e}`, path);
    // docker copies the client's own variable for `-e NAME`; dockops has no client shell, and the
    // server's environment holds its secrets, so the value must be written out.
    if (!e.includes('=')) fail(`-e ${e}: dockops has no shell environment to take ${e} from; write -e ${e}=VALUE`, path);
  }
  const restart = p.flags.restart as string;
  if (!/^(no|always|unless-stopped|on-failure(:\d+)?)$/.test(restart)) fail(`invalid restart policy: ${restart}`, path);
  if (p.given.has('cidfile')) {
    fail(`--cidfile ${p.flags.cidfile as string}: the container ID file is written on your machine, so only the CLI door takes it (\`dockops docker ${path} --cidfile FILE …\`); dockops never writes a path given in a command`, path);
  }
  // --net is docker's hidden name of --network; dockops connects one network when it creates the container.
  const net = (p.flags.net as string) || undefined;
  if (net && p.flags.network && net !== p.flags.network) {
    fail(`--net ${net} and --network ${p.flags.network as string} name two networks: dockops connects one at create (add more with \`docker network connect\`)`, path);
  }
  const network = (p.flags.network as string) || net;
  if (network && p.given.has('network-alias') && (['default', 'bridge', 'host', 'none'].includes(network) || network.startsWith('container:'))) {
    fail('docker: network-scoped aliases are only supported for user-defined networks.', path);
  }
  const pull = p.flags.pull as string;
  if (!['missing', 'always', 'never'].includes(pull)) fail(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`, path);
  return {
    image,
    cmd,
    entrypoint: p.given.has('entrypoint') ? (p.flags.entrypoint as string) : undefined,
    name: name?.replace(/^\//, ''),
    env: p.flags.env as string[],
    workdir: (p.flags.workdir as string) || undefined,
    user: (p.flags.user as string) || undefined,
    hostname: (p.flags.hostname as string) || undefined,
    labels,
    ports: (p.flags.publish as string[]).flatMap((x) => parsePort(x, path)),
    publishAll: p.flags['publish-all'] as boolean,
    mounts: [...(p.flags.volume as string[]).map((x) => parseVolume(x, path)), ...(p.flags.mount as string[]).map((x) => parseMount(x, path))],
    volumesFrom: (p.flags['volumes-from'] as string[]).map((v) => {
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*(:(ro|rw))?$/.test(v)) fail(`invalid --volumes-from "${v}" (CONTAINER[:ro|rw])`, path);
      return v;
    }),
    links: (p.flags.link as string[]).map((l) => {
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*(:[a-zA-Z0-9][a-zA-Z0-9_.-]*)?$/.test(l)) fail(`invalid --link "${l}" (name:alias)`, path);
      return l.includes(':') ? l : `${l}:${l}`;
    }),
    envFile: (p.flags['env-file'] as string[]).map((f) => {
      const m = /^artifact:([0-9a-f]{24})$/.exec(f);
      if (!m) fail(`--env-file ${f}: dockops reads uploaded files only: give artifact:ID (\`dockops docker run --env-file FILE …\` uploads it for you)`, path);
      return (m as RegExpExecArray)[1];
    }),
    network,
    restart: restart === 'no' ? undefined : restart,
    resources: parseResources(p, path),
    extras: parseExtras(p, path),
    privileged: p.flags.privileged as boolean,
    capAdd: p.flags['cap-add'] as string[],
    rm: p.flags.rm as boolean,
    pull: pull as ContainerConfigSpec['pull'],
  };
}

/** The Engine API's create body for a ContainerConfigSpec; every container is labelled with its job. */
export function createOptions(c: ContainerConfigSpec, jobId: string, attach: boolean, stdin = false): Record<string, unknown> {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of c.ports) {
    const key = `${p.containerPort}/${p.proto}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.ip, HostPort: p.hostPort });
  }
  const x = c.extras ?? {};
  for (const key of x.expose ?? []) exposed[key] = {};
  const restart = c.restart?.split(':');
  const pick = (keys: readonly string[]) => Object.fromEntries(keys.filter((k) => (x as Record<string, unknown>)[k] !== undefined).map((k) => [k, (x as Record<string, unknown>)[k]]));
  // --network-alias, --ip, --ip6 and --link-local-ip belong to the endpoint on --network; without one, docker 20.10 drops them.
  const endpoint = {
    ...(x.aliases?.length ? { Aliases: x.aliases } : {}),
    ...(x.ipv4 || x.ipv6 || x.linkLocalIps?.length ? { IPAMConfig: { IPv4Address: x.ipv4 ?? '', IPv6Address: x.ipv6 ?? '', ...(x.linkLocalIps ? { LinkLocalIPs: x.linkLocalIps } : {}) } } : {}),
  };
  return {
    name: c.name,
    /** A query parameter of the create call, not part of the body (see engineCreate). */
    platform: x.platform,
    Image: c.image,
    Cmd: c.cmd.length ? c.cmd : undefined,
    Entrypoint: c.entrypoint === undefined ? undefined : c.entrypoint === '' ? [''] : [c.entrypoint],
    Env: c.env,
    WorkingDir: c.workdir,
    User: c.user,
    Hostname: c.hostname,
    Labels: { ...c.labels, 'dockops.job-id': jobId },
    ExposedPorts: exposed,
    // -a names the streams (docker sets them for create too); STDIN stays closed either way.
    // -i with an uploaded stdin (run through the CLI door): open, attached, closed after the upload ends.
    AttachStdin: stdin || (x.attach ? x.attach.includes('stdin') : false),
    AttachStdout: x.attach ? x.attach.includes('stdout') : attach,
    AttachStderr: x.attach ? x.attach.includes('stderr') : attach,
    OpenStdin: stdin,
    StdinOnce: stdin,
    Tty: false,
    ...pick(CONFIG_FIELDS),
    HostConfig: {
      AutoRemove: c.rm,
      PortBindings: bindings,
      PublishAllPorts: c.publishAll,
      Binds: c.mounts.filter((m) => m.source && !m.api).map((m) => `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`),
      Mounts: c.mounts
        .filter((m) => m.api)
        .map((m) => ({
          Type: m.type,
          Source: m.source || undefined,
          Target: m.target,
          ReadOnly: m.readOnly,
          ...(m.type === 'tmpfs' && m.tmpfsSize ? { TmpfsOptions: { SizeBytes: m.tmpfsSize } } : {}),
        })),
      VolumesFrom: c.volumesFrom.length ? c.volumesFrom : undefined,
      Links: c.links.length ? c.links : undefined,
      NetworkMode: c.network,
      RestartPolicy: restart ? { Name: restart[0], MaximumRetryCount: restart[1] ? Number(restart[1]) : 0 } : undefined,
      ...c.resources,
      Privileged: c.privileged,
      CapAdd: c.capAdd.length ? c.capAdd : undefined,
      ...pick(HOST_CONFIG_FIELDS),
    },
    NetworkingConfig: c.network && Object.keys(endpoint).length ? { EndpointsConfig: { [c.network]: endpoint } } : undefined,
    Volumes: Object.fromEntries(c.mounts.filter((m) => !m.source && !m.api).map((m) => [m.target, {}])),
  };
}
