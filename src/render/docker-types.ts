/**
 * The Go types the docker 20.10 CLI decodes inspect answers into (github.com/docker/docker/api/types
 * at API 1.41), so that `inspect -f` templates see what docker's templates see: struct fields in
 * declaration order, pointers, nil maps and slices, durations, times. Field lists were checked
 * against what /usr/bin/docker (20.10.24) prints for `{{.HostConfig}}`, `{{.State}}`, … .
 */
import { GoDuration, GoFileMode, GoMap, GoPtr, GoStruct, GoTime, nilSlice, type GoField } from './go-value.js';

type Scalar = 'string' | 'bool' | 'int' | 'duration' | 'time' | 'filemode' | 'any';
/** The kind of a field: a scalar, a slice, a map (with its Go type name), a pointer or a struct. */
type Kind = Scalar | { slice: Kind } | { map: Kind; name?: string } | { ptr: Kind } | Shape;
interface FieldOpts {
  /** The JSON name when it differs from the Go name (`ID` is `Id`). */
  json?: string;
  /** An embedded field: its fields are promoted, and its JSON is flattened into the parent's. */
  embedded?: boolean;
  /** `json:",omitempty"`: left out of `{{json …}}` when empty. */
  omitempty?: boolean;
}
/** A Go struct type. */
export interface Shape {
  name: string;
  fields: [goName: string, kind: Kind, opts?: FieldOpts][];
  /** A String() method: fmt prints this instead of the fields. */
  stringer?: (fields: Record<string, unknown>) => string;
}

const O: FieldOpts = { omitempty: true };
const strings: Kind = { slice: 'string' };
const stringMap: Kind = { map: 'string' };

// ---- container ----

const HEALTH_CONFIG: Shape = {
  name: 'container.HealthConfig',
  fields: [['Test', strings, O], ['Interval', 'duration', O], ['Timeout', 'duration', O], ['StartPeriod', 'duration', O], ['Retries', 'int', O]],
};
/** The map[nat.Port]struct{} and map[string]struct{} of Config: values print `{}`. */
const EMPTY: Shape = { name: 'struct {}', fields: [] };
const CONFIG: Shape = {
  name: 'container.Config',
  fields: [
    ['Hostname', 'string'], ['Domainname', 'string'], ['User', 'string'], ['AttachStdin', 'bool'], ['AttachStdout', 'bool'],
    ['AttachStderr', 'bool'], ['ExposedPorts', { map: EMPTY, name: 'nat.PortSet' }, O], ['Tty', 'bool'], ['OpenStdin', 'bool'],
    ['StdinOnce', 'bool'], ['Env', strings], ['Cmd', strings], ['Healthcheck', { ptr: HEALTH_CONFIG }, O], ['ArgsEscaped', 'bool', O],
    ['Image', 'string'], ['Volumes', { map: EMPTY }], ['WorkingDir', 'string'], ['Entrypoint', strings], ['NetworkDisabled', 'bool', O],
    ['MacAddress', 'string', O], ['OnBuild', strings], ['Labels', stringMap], ['StopSignal', 'string', O], ['StopTimeout', { ptr: 'int' }, O],
    ['Shell', strings, O],
  ],
};

const PORT_BINDING: Shape = { name: 'nat.PortBinding', fields: [['HostIP', 'string', { json: 'HostIp' }], ['HostPort', 'string']] };
const PORT_MAP: Kind = { map: { slice: PORT_BINDING }, name: 'nat.PortMap' };
const WEIGHT_DEVICE: Shape = { name: 'blkiodev.WeightDevice', fields: [['Path', 'string'], ['Weight', 'int']], stringer: (f) => `${f.Path}:${f.Weight}` };
const THROTTLE_DEVICE: Shape = { name: 'blkiodev.ThrottleDevice', fields: [['Path', 'string'], ['Rate', 'int']], stringer: (f) => `${f.Path}:${f.Rate}` };
const ULIMIT: Shape = { name: 'units.Ulimit', fields: [['Name', 'string'], ['Hard', 'int'], ['Soft', 'int']], stringer: (f) => `${f.Name}=${f.Soft}:${f.Hard}` };
const RESOURCES: Shape = {
  name: 'container.Resources',
  fields: [
    ['CPUShares', 'int', { json: 'CpuShares' }], ['Memory', 'int'], ['NanoCPUs', 'int', { json: 'NanoCpus' }], ['CgroupParent', 'string'],
    ['BlkioWeight', 'int'], ['BlkioWeightDevice', { slice: { ptr: WEIGHT_DEVICE } }], ['BlkioDeviceReadBps', { slice: { ptr: THROTTLE_DEVICE } }],
    ['BlkioDeviceWriteBps', { slice: { ptr: THROTTLE_DEVICE } }], ['BlkioDeviceReadIOps', { slice: { ptr: THROTTLE_DEVICE } }],
    ['BlkioDeviceWriteIOps', { slice: { ptr: THROTTLE_DEVICE } }], ['CPUPeriod', 'int', { json: 'CpuPeriod' }], ['CPUQuota', 'int', { json: 'CpuQuota' }],
    ['CPURealtimePeriod', 'int', { json: 'CpuRealtimePeriod' }], ['CPURealtimeRuntime', 'int', { json: 'CpuRealtimeRuntime' }],
    ['CpusetCpus', 'string'], ['CpusetMems', 'string'],
    ['Devices', { slice: { name: 'container.DeviceMapping', fields: [['PathOnHost', 'string'], ['PathInContainer', 'string'], ['CgroupPermissions', 'string']] } }],
    ['DeviceCgroupRules', strings],
    ['DeviceRequests', { slice: { name: 'container.DeviceRequest', fields: [['Driver', 'string'], ['Count', 'int'], ['DeviceIDs', strings], ['Capabilities', { slice: strings }], ['Options', stringMap]] } }],
    ['KernelMemory', 'int'], ['KernelMemoryTCP', 'int'], ['MemoryReservation', 'int'], ['MemorySwap', 'int'], ['MemorySwappiness', { ptr: 'int' }],
    ['OomKillDisable', { ptr: 'bool' }], ['PidsLimit', { ptr: 'int' }], ['Ulimits', { slice: { ptr: ULIMIT } }],
    ['CPUCount', 'int', { json: 'CpuCount' }], ['CPUPercent', 'int', { json: 'CpuPercent' }], ['IOMaximumIOps', 'int'], ['IOMaximumBandwidth', 'int'],
  ],
};
const MOUNT_DRIVER: Shape = { name: 'mount.Driver', fields: [['Name', 'string', O], ['Options', stringMap, O]] };
const MOUNT: Shape = {
  name: 'mount.Mount',
  fields: [
    ['Type', 'string', O], ['Source', 'string', O], ['Target', 'string', O], ['ReadOnly', 'bool', O], ['Consistency', 'string', O],
    ['BindOptions', { ptr: { name: 'mount.BindOptions', fields: [['Propagation', 'string', O], ['NonRecursive', 'bool', O]] } }, O],
    ['VolumeOptions', { ptr: { name: 'mount.VolumeOptions', fields: [['NoCopy', 'bool', O], ['Labels', stringMap, O], ['DriverConfig', { ptr: MOUNT_DRIVER }, O]] } }, O],
    ['TmpfsOptions', { ptr: { name: 'mount.TmpfsOptions', fields: [['SizeBytes', 'int', O], ['Mode', 'filemode', O]] } }, O],
  ],
};
const HOST_CONFIG: Shape = {
  name: 'container.HostConfig',
  fields: [
    ['Binds', strings], ['ContainerIDFile', 'string'], ['LogConfig', { name: 'container.LogConfig', fields: [['Type', 'string'], ['Config', stringMap]] }],
    ['NetworkMode', 'string'], ['PortBindings', PORT_MAP],
    ['RestartPolicy', { name: 'container.RestartPolicy', fields: [['Name', 'string'], ['MaximumRetryCount', 'int']] }],
    ['AutoRemove', 'bool'], ['VolumeDriver', 'string'], ['VolumesFrom', strings], ['CapAdd', strings], ['CapDrop', strings],
    ['CgroupnsMode', 'string'], ['DNS', strings, { json: 'Dns' }], ['DNSOptions', strings, { json: 'DnsOptions' }],
    ['DNSSearch', strings, { json: 'DnsSearch' }], ['ExtraHosts', strings], ['GroupAdd', strings], ['IpcMode', 'string'], ['Cgroup', 'string'],
    ['Links', strings], ['OomScoreAdj', 'int'], ['PidMode', 'string'], ['Privileged', 'bool'], ['PublishAllPorts', 'bool'],
    ['ReadonlyRootfs', 'bool'], ['SecurityOpt', strings], ['StorageOpt', stringMap, O], ['Tmpfs', stringMap, O], ['UTSMode', 'string'],
    ['UsernsMode', 'string'], ['ShmSize', 'int'], ['Sysctls', stringMap, O], ['Runtime', 'string', O], ['ConsoleSize', { slice: 'int' }],
    ['Isolation', 'string'], ['Resources', RESOURCES, { embedded: true }], ['Mounts', { slice: MOUNT }, O], ['MaskedPaths', strings],
    ['ReadonlyPaths', strings], ['Init', { ptr: 'bool' }, O],
  ],
};

const HEALTH: Shape = {
  name: 'types.Health',
  fields: [
    ['Status', 'string'], ['FailingStreak', 'int'],
    ['Log', { slice: { ptr: { name: 'types.HealthcheckResult', fields: [['Start', 'time'], ['End', 'time'], ['ExitCode', 'int'], ['Output', 'string']] } } }],
  ],
};
const STATE: Shape = {
  name: 'types.ContainerState',
  fields: [
    ['Status', 'string'], ['Running', 'bool'], ['Paused', 'bool'], ['Restarting', 'bool'], ['OOMKilled', 'bool'], ['Dead', 'bool'],
    ['Pid', 'int'], ['ExitCode', 'int'], ['Error', 'string'], ['StartedAt', 'string'], ['FinishedAt', 'string'], ['Health', { ptr: HEALTH }, O],
  ],
};
const NODE: Shape = {
  name: 'types.ContainerNode',
  fields: [['ID', 'string'], ['IPAddress', 'string', { json: 'IP' }], ['Addr', 'string'], ['Name', 'string'], ['Cpus', 'int'], ['Memory', 'int'], ['Labels', stringMap]],
};
const GRAPH_DRIVER: Shape = { name: 'types.GraphDriverData', fields: [['Data', stringMap], ['Name', 'string']] };
const CONTAINER_BASE: Shape = {
  name: 'types.ContainerJSONBase',
  fields: [
    ['ID', 'string', { json: 'Id' }], ['Created', 'string'], ['Path', 'string'], ['Args', strings], ['State', { ptr: STATE }], ['Image', 'string'],
    ['ResolvConfPath', 'string'], ['HostnamePath', 'string'], ['HostsPath', 'string'], ['LogPath', 'string'], ['Node', { ptr: NODE }, O],
    ['Name', 'string'], ['RestartCount', 'int'], ['Driver', 'string'], ['Platform', 'string'], ['MountLabel', 'string'], ['ProcessLabel', 'string'],
    ['AppArmorProfile', 'string'], ['ExecIDs', strings], ['HostConfig', { ptr: HOST_CONFIG }], ['GraphDriver', GRAPH_DRIVER],
    ['SizeRw', { ptr: 'int' }, O], ['SizeRootFs', { ptr: 'int' }, O],
  ],
};
const MOUNT_POINT: Shape = {
  name: 'types.MountPoint',
  fields: [
    ['Type', 'string', O], ['Name', 'string', O], ['Source', 'string'], ['Destination', 'string'], ['Driver', 'string', O], ['Mode', 'string'],
    ['RW', 'bool'], ['Propagation', 'string'],
  ],
};
const ADDRESS: Shape = { name: 'network.Address', fields: [['Addr', 'string'], ['PrefixLen', 'int']] };
const ENDPOINT_SETTINGS: Shape = {
  name: 'network.EndpointSettings',
  fields: [
    ['IPAMConfig', { ptr: { name: 'network.EndpointIPAMConfig', fields: [['IPv4Address', 'string', O], ['IPv6Address', 'string', O], ['LinkLocalIPs', strings, O]] } }],
    ['Links', strings], ['Aliases', strings], ['NetworkID', 'string'], ['EndpointID', 'string'], ['Gateway', 'string'], ['IPAddress', 'string'],
    ['IPPrefixLen', 'int'], ['IPv6Gateway', 'string'], ['GlobalIPv6Address', 'string'], ['GlobalIPv6PrefixLen', 'int'], ['MacAddress', 'string'],
    ['DriverOpts', stringMap],
  ],
};
const NETWORK_SETTINGS: Shape = {
  name: 'types.NetworkSettings',
  fields: [
    [
      'NetworkSettingsBase',
      {
        name: 'types.NetworkSettingsBase',
        fields: [
          ['Bridge', 'string'], ['SandboxID', 'string'], ['HairpinMode', 'bool'], ['LinkLocalIPv6Address', 'string'], ['LinkLocalIPv6PrefixLen', 'int'],
          ['Ports', PORT_MAP], ['SandboxKey', 'string'], ['SecondaryIPAddresses', { slice: ADDRESS }], ['SecondaryIPv6Addresses', { slice: ADDRESS }],
        ],
      },
      { embedded: true },
    ],
    [
      'DefaultNetworkSettings',
      {
        name: 'types.DefaultNetworkSettings',
        fields: [
          ['EndpointID', 'string'], ['Gateway', 'string'], ['GlobalIPv6Address', 'string'], ['GlobalIPv6PrefixLen', 'int'], ['IPAddress', 'string'],
          ['IPPrefixLen', 'int'], ['IPv6Gateway', 'string'], ['MacAddress', 'string'],
        ],
      },
      { embedded: true },
    ],
    ['Networks', { map: { ptr: ENDPOINT_SETTINGS } }],
  ],
};
const CONTAINER: Shape = {
  name: 'types.ContainerJSON',
  fields: [
    ['ContainerJSONBase', { ptr: CONTAINER_BASE }, { embedded: true }], ['Mounts', { slice: MOUNT_POINT }], ['Config', { ptr: CONFIG }],
    ['NetworkSettings', { ptr: NETWORK_SETTINGS }],
  ],
};

// ---- image ----

const IMAGE: Shape = {
  name: 'types.ImageInspect',
  fields: [
    ['ID', 'string', { json: 'Id' }], ['RepoTags', strings], ['RepoDigests', strings], ['Parent', 'string'], ['Comment', 'string'],
    ['Created', 'string'], ['Container', 'string'], ['ContainerConfig', { ptr: CONFIG }], ['DockerVersion', 'string'], ['Author', 'string'],
    ['Config', { ptr: CONFIG }], ['Architecture', 'string'], ['Variant', 'string', O], ['Os', 'string'], ['OsVersion', 'string', O],
    ['Size', 'int'], ['VirtualSize', 'int'], ['GraphDriver', GRAPH_DRIVER],
    ['RootFS', { name: 'types.RootFS', fields: [['Type', 'string'], ['Layers', strings, O], ['BaseLayer', 'string', O]] }],
    ['Metadata', { name: 'types.ImageMetadata', fields: [['LastTagTime', 'time', O]] }],
  ],
};

// ---- network ----

const NETWORK: Shape = {
  name: 'types.NetworkResource',
  fields: [
    ['Name', 'string'], ['ID', 'string', { json: 'Id' }], ['Created', 'time'], ['Scope', 'string'], ['Driver', 'string'], ['EnableIPv6', 'bool'],
    [
      'IPAM',
      {
        name: 'network.IPAM',
        fields: [
          ['Driver', 'string'], ['Options', stringMap],
          [
            'Config',
            {
              slice: {
                name: 'network.IPAMConfig',
                fields: [['Subnet', 'string', O], ['IPRange', 'string', O], ['Gateway', 'string', O], ['AuxAddress', stringMap, { json: 'AuxiliaryAddresses', omitempty: true }]],
              },
            },
          ],
        ],
      },
    ],
    ['Internal', 'bool'], ['Attachable', 'bool'], ['Ingress', 'bool'], ['ConfigFrom', { name: 'network.ConfigReference', fields: [['Network', 'string']] }],
    ['ConfigOnly', 'bool'],
    [
      'Containers',
      {
        map: {
          name: 'types.EndpointResource',
          fields: [['Name', 'string'], ['EndpointID', 'string'], ['MacAddress', 'string'], ['IPv4Address', 'string'], ['IPv6Address', 'string']],
        },
      },
    ],
    ['Options', stringMap], ['Labels', stringMap], ['Peers', { slice: { name: 'network.PeerInfo', fields: [['Name', 'string'], ['IP', 'string']] } }, O],
    [
      'Services',
      {
        map: {
          name: 'network.ServiceInfo',
          fields: [
            ['VIP', 'string'], ['Ports', strings], ['LocalLBIndex', 'int'],
            ['Tasks', { slice: { name: 'network.Task', fields: [['Name', 'string'], ['EndpointID', 'string'], ['EndpointIP', 'string'], ['Info', stringMap]] } }],
          ],
        },
      },
      O,
    ],
  ],
};

// ---- volume ----

const VOLUME: Shape = {
  name: 'types.Volume',
  fields: [
    ['CreatedAt', 'string', O], ['Driver', 'string'], ['Labels', stringMap], ['Mountpoint', 'string'], ['Name', 'string'], ['Options', stringMap],
    ['Scope', 'string'], ['Status', { map: 'any' }, O],
    ['UsageData', { ptr: { name: 'types.VolumeUsageData', fields: [['RefCount', 'int'], ['Size', 'int']] } }, O],
  ],
};

// ---- building typed values from the engine's JSON ----

function isShape(k: Kind): k is Shape {
  return typeof k === 'object' && 'fields' in k;
}

/** Go's name of a type, for error messages and map/pointer types. */
function typeName(k: Kind): string {
  if (typeof k === 'string') {
    return { string: 'string', bool: 'bool', int: 'int64', duration: 'time.Duration', time: 'time.Time', filemode: 'fs.FileMode', any: 'interface {}' }[k];
  }
  if (isShape(k)) return k.name;
  if ('slice' in k) return `[]${typeName(k.slice)}`;
  if ('map' in k) return k.name ?? `map[string]${typeName(k.map)}`;
  return `*${typeName(k.ptr)}`;
}

/** The zero value of a kind, as `index` gives it for a missing map key. */
function zeroOf(k: Kind): unknown {
  return typed(k, undefined);
}

/** Go's isEmptyValue, for omitempty. */
function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (v instanceof Map) return v.size === 0;
  if (v instanceof GoPtr) return v.elem === null;
  if (v instanceof GoDuration) return v.ns === 0;
  if (v instanceof GoFileMode) return v.mode === 0;
  return false;
}

/** A JSON value as json.Marshal writes a Go map[string]interface{}: keys sorted, all the way down. */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortedKeys(o[k])]));
}

function typed(kind: Kind, raw: unknown): unknown {
  if (typeof kind === 'string') {
    switch (kind) {
      case 'string':
        return typeof raw === 'string' ? raw : '';
      case 'bool':
        return raw === true;
      case 'int':
        return typeof raw === 'number' ? raw : 0;
      case 'duration':
        return new GoDuration(typeof raw === 'number' ? raw : 0);
      case 'time':
        return new GoTime(typeof raw === 'string' ? raw : '0001-01-01T00:00:00Z');
      case 'filemode':
        return new GoFileMode(typeof raw === 'number' ? raw : 0);
      case 'any':
        return raw === undefined ? null : raw;
    }
  }
  if (isShape(kind)) return structOf(kind, raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {});
  if ('slice' in kind) return Array.isArray(raw) ? raw.map((e) => typed(kind.slice, e)) : nilSlice();
  if ('map' in kind) {
    const obj = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
    const entries = Object.keys(obj)
      .sort()
      .map((k): [string, unknown] => [k, typed(kind.map, obj[k])]);
    return new GoMap(typeName(kind), entries, !raw, kind.map === 'any' ? undefined : zeroOf(kind.map));
  }
  const elemType = typeName(kind.ptr);
  if (raw === null || raw === undefined) return new GoPtr(elemType, null, isShape(kind.ptr) ? kind.ptr.fields.map((f) => f[0]) : undefined);
  return new GoPtr(elemType, typed(kind.ptr, raw));
}

function structOf(shape: Shape, raw: Record<string, unknown>): GoStruct {
  const fields: GoField[] = shape.fields.map(([name, kind, opts]) => ({
    name,
    // An embedded struct's fields sit in the parent's JSON object.
    value: typed(kind, opts?.embedded ? raw : raw[opts?.json ?? name]),
    embedded: opts?.embedded,
  }));
  const toJson = () => {
    const out: Record<string, unknown> = {};
    shape.fields.forEach(([name, kind, opts], i) => {
      const v = fields[i].value;
      if (opts?.embedded) {
        const inner = v instanceof GoPtr ? v.elem : v;
        if (inner instanceof GoStruct) Object.assign(out, inner.toJSON());
      } else if (!(opts?.omitempty && isEmpty(v))) {
        out[opts?.json ?? name] = kind === 'any' || (typeof kind === 'object' && 'map' in kind && kind.map === 'any') ? sortedKeys(raw[opts?.json ?? name] ?? null) : v;
      }
    });
    return out;
  };
  const values = () => Object.fromEntries(fields.map((f) => [f.name, f.value]));
  return new GoStruct(shape.name, fields, toJson, shape.stringer && (() => shape.stringer?.(values()) ?? ''));
}

/** The typed view of a container's inspect JSON (types.ContainerJSON). */
export function typedContainer(raw: unknown): GoStruct {
  return typed(CONTAINER, raw) as GoStruct;
}
/** The typed view of an image's inspect JSON (types.ImageInspect). */
export function typedImage(raw: unknown): GoStruct {
  return typed(IMAGE, raw) as GoStruct;
}
/** The typed view of a network's inspect JSON (types.NetworkResource). */
export function typedNetwork(raw: unknown): GoStruct {
  return typed(NETWORK, raw) as GoStruct;
}
/** The typed view of a volume's inspect JSON (types.Volume). */
export function typedVolume(raw: unknown): GoStruct {
  return typed(VOLUME, raw) as GoStruct;
}
