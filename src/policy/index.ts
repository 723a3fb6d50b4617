import path from 'node:path';
import { LOCAL_LOG_DRIVERS, type RunPolicy } from '../config.js';
import type { JobSpec } from '../commands/index.js';
import { PolicyError } from '../errors.js';

/**
 * The Docker socket is root on the host. Before anything is enqueued, a container's options are
 * held against the policy: privileged mode, host namespaces, added capabilities, host devices,
 * security options and bind mounts outside the allowlist are refused unless configured, with the
 * variable that would allow them.
 */
export function checkPolicy(spec: JobSpec, policy: RunPolicy): void {
  if (spec.kind === 'container.exec') {
    // `exec -u` (any user, root included) is no more than the container already allows: nothing to check.
    if (spec.privileged && !policy.allowPrivileged) {
      throw new PolicyError('refused by policy: exec --privileged gives the command root on the host (set DOCKOPS_ALLOW_PRIVILEGED=true to allow it)');
    }
    return;
  }
  if (spec.kind === 'volume.create') return checkVolumeOptions(spec.driver, spec.options, policy);
  if (spec.kind !== 'container.run' && spec.kind !== 'container.create') return;
  if (spec.privileged && !policy.allowPrivileged) {
    throw new PolicyError('refused by policy: --privileged gives the container root on the host (set DOCKOPS_ALLOW_PRIVILEGED=true to allow it)');
  }
  if (spec.capAdd.length && !policy.allowCapAdd) {
    throw new PolicyError(`refused by policy: --cap-add ${spec.capAdd.join(',')} (set DOCKOPS_ALLOW_CAP_ADD=true to allow it)`);
  }
  if ((spec.network === 'host' || spec.network?.startsWith('container:')) && !policy.allowHostNamespaces) {
    throw new PolicyError(sharesNamespace('--network', spec.network as string));
  }
  // The host's namespaces; `container:X` shares another container's, which the grants' containers hold (specTargets).
  const x = spec.extras ?? {};
  for (const [flag, mode] of [['--pid', x.PidMode], ['--ipc', x.IpcMode], ['--uts', x.UTSMode], ['--userns', x.UsernsMode], ['--cgroupns', x.CgroupnsMode]] as const) {
    // `host:…` is no host namespace to the engine today; refused all the same, should one ever read it so.
    if (mode?.split(':')[0] === 'host' && !policy.allowHostNamespaces) throw new PolicyError(sharesNamespace(flag, mode));
  }
  if (x.Devices?.length && !policy.allowDevices) {
    throw new PolicyError(`refused by policy: --device ${x.Devices.map((d) => d.PathOnHost).join(',')} gives the container a device of the host (set DOCKOPS_ALLOW_DEVICES=true to allow it)`);
  }
  if (x.DeviceCgroupRules?.length && !policy.allowDevices) {
    throw new PolicyError(`refused by policy: --device-cgroup-rule ${x.DeviceCgroupRules.map((r) => `'${r}'`).join(',')} lets the container use devices of the host (set DOCKOPS_ALLOW_DEVICES=true to allow it)`);
  }
  if (x.DeviceRequests?.length && !policy.allowDevices) {
    throw new PolicyError('refused by policy: --gpus gives the container GPUs of the host (set DOCKOPS_ALLOW_DEVICES=true to allow it)');
  }
  // The I/O limits only slow the container down, but name a path the engine looks up on the host: a device, by its plain path.
  for (const [flag, list] of [
    ['--blkio-weight-device', x.BlkioWeightDevice], ['--device-read-bps', x.BlkioDeviceReadBps], ['--device-write-bps', x.BlkioDeviceWriteBps],
    ['--device-read-iops', x.BlkioDeviceReadIOps], ['--device-write-iops', x.BlkioDeviceWriteIOps],
  ] as const) {
    for (const d of list ?? []) {
      if (!/^\/dev\/[A-Za-z0-9._+:@-]+(\/[A-Za-z0-9._+:@-]+)*$/.test(d.Path) || d.Path.split('/').some((part) => part === '.' || part === '..')) {
        throw new PolicyError(`refused by policy: ${flag} ${d.Path}: the device must be an absolute path under /dev (such as /dev/sda), with no '.' or '..' parts`);
      }
    }
  }
  if (x.CgroupParent && !policy.allowCgroupParent) {
    throw new PolicyError(`refused by policy: --cgroup-parent ${x.CgroupParent} puts the container in a cgroup outside the engine's, where its limits may not hold (set DOCKOPS_ALLOW_CGROUP_PARENT=true to allow it)`);
  }
  // no-new-privileges only takes privileges away; every other option loosens or relabels the confinement.
  const loosening = (x.SecurityOpt ?? []).filter((o) => o.split(/[=:]/)[0] !== 'no-new-privileges');
  if (loosening.length && !policy.allowSecurityOpt) {
    throw new PolicyError(`refused by policy: --security-opt ${loosening.join(',')} changes the container's confinement (set DOCKOPS_ALLOW_SECURITY_OPT=true to allow it)`);
  }
  // syslog, gelf, fluentd, awslogs, splunk… make the engine send the logs off the host, with its own credentials.
  const driver = x.LogConfig?.Type;
  const drivers = policy.logDrivers ?? LOCAL_LOG_DRIVERS;
  if (driver && !drivers.includes(driver)) {
    throw new PolicyError(`refused by policy: --log-driver ${driver} is not one of the allowed log drivers (${drivers.join(', ')}): it can send the container's logs off this host with the engine's own settings (add it to DOCKOPS_LOG_DRIVERS to allow it)`);
  }
  for (const m of spec.mounts) {
    if (m.type !== 'bind') continue;
    if (!allowedHostPath(m.source, policy)) {
      throw new PolicyError(
        `refused by policy: bind mount of ${m.source} is outside the allowed host paths (${policy.bindAllowlist.join(', ') || 'none'}); use a named volume, or add the directory to DOCKOPS_BIND_ALLOWLIST`,
      );
    }
  }
}

function sharesNamespace(flag: string, mode: string): string {
  return `refused by policy: ${flag} ${mode} shares a namespace outside the container (set DOCKOPS_ALLOW_HOST_NAMESPACES=true to allow it)`;
}

function allowedHostPath(p: string, policy: RunPolicy): boolean {
  const src = path.posix.normalize(p);
  return src.startsWith('/') && policy.bindAllowlist.some((dir) => src === dir || src.startsWith(dir.endsWith('/') ? dir : `${dir}/`));
}

/**
 * The local driver mounts `device` with `type` and `o` (mount(8)): `o=bind` makes a named volume a
 * bind mount of a host path, and a device or network filesystem reaches past the container too.
 * So a volume may bind only what a bind mount may (DOCKOPS_BIND_ALLOWLIST), tmpfs always.
 */
function checkVolumeOptions(driver: string, options: Record<string, string>, policy: RunPolicy): void {
  if (driver !== 'local' || options.device === undefined) return;
  const type = options.type ?? '';
  const bind = (options.o ?? '').split(',').some((o) => o.trim() === 'bind' || o.trim() === 'rbind');
  if (type === 'tmpfs' && !bind) return;
  if (bind) {
    if (allowedHostPath(options.device, policy)) return;
    throw new PolicyError(
      `refused by policy: volume option device=${options.device} with o=bind is a bind mount of a host path outside the allowed host paths (${policy.bindAllowlist.join(', ') || 'none'}); add the directory to DOCKOPS_BIND_ALLOWLIST`,
    );
  }
  throw new PolicyError(
    `refused by policy: volume options type=${type || '(none)'} device=${options.device} mount a host device or network filesystem; dockops allows type=tmpfs, or o=bind of a directory in DOCKOPS_BIND_ALLOWLIST`,
  );
}

/** The closed policy: what a worker holds jobs to when it was given none. */
export const CLOSED_POLICY: RunPolicy = { allowPrivileged: false, allowHostNamespaces: false, allowCapAdd: false, allowDevices: false, allowSecurityOpt: false, allowCgroupParent: false, bindAllowlist: [] };

interface Inspectable {
  getContainer(id: string): {
    inspect(): Promise<{ Name?: string; Mounts?: Array<{ Type?: string; Source?: string }>; HostConfig?: { PidMode?: string; IpcMode?: string } }>;
  };
}

/**
 * `--volumes-from C` gives the new container every mount of C, its host binds included: checked in
 * the worker (the door cannot see C), against the same allowlist as a bind mount. A container the
 * engine cannot find is left to the engine's own error.
 */
export async function checkVolumesFrom(docker: Inspectable, volumesFrom: string[], policy: RunPolicy): Promise<void> {
  for (const v of volumesFrom) {
    const name = v.replace(/:(ro|rw)$/, '');
    let mounts: Array<{ Type?: string; Source?: string }>;
    try {
      mounts = (await docker.getContainer(name).inspect()).Mounts ?? [];
    } catch {
      continue;
    }
    for (const m of mounts) {
      if (m.Type !== 'bind' || allowedHostPath(m.Source ?? '', policy)) continue;
      throw new PolicyError(
        `refused by policy: --volumes-from ${name} would mount ${m.Source} from the host (${name} has it bind-mounted), outside the allowed host paths (${policy.bindAllowlist.join(', ') || 'none'}); use a container with named volumes only, or add the directory to DOCKOPS_BIND_ALLOWLIST`,
      );
    }
  }
}

/**
 * `--pid container:X` / `--ipc container:X` join X's namespace, and X may have the host's
 * (`--pid host`, made by someone the policy allowed, or outside dockops): that would be the host's
 * namespace without DOCKOPS_ALLOW_HOST_NAMESPACES. Checked in the worker (the door cannot see X),
 * following X's own `container:` chain; a container the engine cannot find is left to its error.
 */
export async function checkJoinedNamespaces(docker: Inspectable, modes: { pid?: string; ipc?: string }, policy: RunPolicy): Promise<void> {
  if (policy.allowHostNamespaces) return;
  for (const [flag, key, mode] of [['--pid', 'PidMode', modes.pid], ['--ipc', 'IpcMode', modes.ipc]] as const) {
    let current = mode;
    const seen: string[] = [];
    while (current?.startsWith('container:') && seen.length < 10) {
      const ref = current.slice('container:'.length);
      try {
        // The engine keeps a joined container by ID: named as the person knows it.
        const info = await docker.getContainer(ref).inspect();
        seen.push(info.Name?.replace(/^\//, '') || ref);
        current = info.HostConfig?.[key];
      } catch {
        break;
      }
      if (current === 'host') {
        throw new PolicyError(
          `refused by policy: ${flag} ${mode} shares a namespace outside the container: ${seen[seen.length - 1]} has ${flag} host${seen.length > 1 ? ` (reached through ${seen.slice(0, -1).join(' → ')})` : ''} (set DOCKOPS_ALLOW_HOST_NAMESPACES=true to allow it)`,
        );
      }
    }
  }
}
