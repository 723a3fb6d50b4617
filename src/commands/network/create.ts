import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import type Docker from 'dockerode';
import { defineCommand, ok } from '../define.js';
import { kvMap, stringsFlag } from '../kv.js';
import { toDockerError, UsageError } from '../../errors.js';

const IpamConfig = z.object({
  Subnet: z.string(),
  IPRange: z.string().optional(),
  Gateway: z.string().optional(),
  AuxiliaryAddresses: z.record(z.string(), z.string()),
});

export const NetworkCreateSpec = z.object({
  kind: z.literal('network.create'),
  name: z.string().min(1),
  driver: z.string(),
  ipam: z.array(IpamConfig),
  internal: z.boolean(),
  attachable: z.boolean(),
  labels: z.record(z.string(), z.string()),
  options: z.record(z.string(), z.string()),
  ipv6: z.boolean(),
  ipamDriver: z.string(),
  ipamOptions: z.record(z.string(), z.string()),
  /** --scope (swarm, global, local): the engine refuses what this node cannot do, in its words. */
  scope: z.string(),
  /** --ingress: swarm's routing mesh; the engine refuses it off swarm. */
  ingress: z.boolean(),
  configOnly: z.boolean(),
  configFrom: z.string().optional(),
});
export type NetworkCreateSpec = z.infer<typeof NetworkCreateSpec>;

/** The IP of an address or of a CIDR, as Go's net.ParseIP / net.ParseCIDR give it. */
function parseCidr(s: string): { ip: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  const v = isIP(ip);
  if (!v || !/^\d+$/.test(bits)) return undefined;
  const prefix = Number.parseInt(bits, 10);
  if (prefix > (v === 4 ? 32 : 128)) return undefined;
  return { ip, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** docker's subnetMatches: is the address (or the IP of a CIDR) inside the subnet? */
function subnetMatches(subnet: string, data: string): boolean {
  const s = parseCidr(subnet);
  if (!s) throw new UsageError(`invalid subnet: invalid CIDR address: ${subnet}`, 1);
  let ip = data;
  if (data.includes('/')) {
    const d = parseCidr(data);
    if (!d) throw new UsageError(`invalid CIDR address: ${data}`, 1);
    ip = d.ip;
  }
  const v = isIP(ip);
  if (!v) return false;
  const list = new BlockList();
  list.addSubnet(s.ip, s.prefix, s.family);
  return list.check(ip, v === 4 ? 'ipv4' : 'ipv6');
}

/**
 * docker's consolidateIpam: every --ip-range, --gateway and --aux-address goes to the --subnet
 * that holds it, with the CLI's own error for one without.
 */
export function consolidateIpam(subnets: string[], ranges: string[], gateways: string[], aux: Record<string, string> = {}): z.infer<typeof IpamConfig>[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length) {
    throw new UsageError('every ip-range or gateway must have a corresponding subnet', 1);
  }
  const data = new Map<string, z.infer<typeof IpamConfig>>();
  for (const s of subnets) {
    for (const k of data.keys()) {
      if (subnetMatches(s, k) || subnetMatches(k, s)) throw new UsageError('multiple overlapping subnet configuration is not supported', 1);
    }
    data.set(s, { Subnet: s, AuxiliaryAddresses: {} });
  }
  const place = (values: string[], field: 'IPRange' | 'Gateway', what: string, plural: string) => {
    for (const r of values) {
      let match = false;
      for (const s of subnets) {
        if (!subnetMatches(s, r)) continue;
        const d = data.get(s) as z.infer<typeof IpamConfig>;
        if (d[field]) throw new UsageError(`cannot configure multiple ${plural} (${r}, ${d[field]}) ${field === 'IPRange' ? 'on' : 'for'} the same subnet (${s})`, 1);
        d[field] = r;
        match = true;
      }
      if (!match) throw new UsageError(`no matching subnet for ${what} ${r}`, 1);
    }
  };
  place(ranges, 'IPRange', 'range', 'ranges');
  place(gateways, 'Gateway', 'gateway', 'gateways');
  for (const [key, addr] of Object.entries(aux)) {
    const holders = subnets.filter((s) => subnetMatches(s, addr));
    if (holders.length === 0) throw new UsageError(`no matching subnet for aux-address ${addr}`, 1);
    for (const s of holders) (data.get(s) as z.infer<typeof IpamConfig>).AuxiliaryAddresses[key] = addr;
  }
  return [...data.values()];
}

export const networkCreate = defineCommand({
  path: ['network', 'create'],
  usage: '[OPTIONS] NETWORK',
  summary: 'Create a network',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'attachable', type: 'bool', help: 'Enable manual container attachment' },
    { name: 'aux-address', type: 'list', valueName: 'map', help: 'Auxiliary IPv4 or IPv6 addresses used by Network driver (default map[])' },
    { name: 'config-from', type: 'string', valueName: 'string', help: 'The network from which to copy the configuration' },
    { name: 'config-only', type: 'bool', help: 'Create a configuration only network' },
    { name: 'driver', short: 'd', type: 'string', valueName: 'string', default: 'bridge', help: 'Driver to manage the Network' },
    { name: 'gateway', type: 'list', valueName: 'strings', help: 'IPv4 or IPv6 Gateway for the master subnet' },
    { name: 'ingress', type: 'bool', help: 'Create swarm routing-mesh network' },
    { name: 'internal', type: 'bool', help: 'Restrict external access to the network' },
    { name: 'ip-range', type: 'list', valueName: 'strings', help: 'Allocate container ip from a sub-range' },
    { name: 'ipam-driver', type: 'string', valueName: 'string', default: 'default', help: 'IP Address Management Driver' },
    { name: 'ipam-opt', type: 'list', valueName: 'map', help: 'Set IPAM driver specific options (default map[])' },
    { name: 'ipv6', type: 'bool', help: 'Enable IPv6 networking' },
    { name: 'label', type: 'list', valueName: 'list', help: 'Set metadata on a network' },
    { name: 'opt', short: 'o', type: 'list', valueName: 'map', help: 'Set driver specific options (default map[])' },
    { name: 'scope', type: 'string', valueName: 'string', help: "Control the network's scope" },
    { name: 'subnet', type: 'list', valueName: 'strings', help: 'Subnet in CIDR format that represents a network segment' },
  ],
  spec: NetworkCreateSpec,
  toSpec(p) {
    const ipam = consolidateIpam(
      stringsFlag(p.flags.subnet as string[]),
      stringsFlag(p.flags['ip-range'] as string[]),
      stringsFlag(p.flags.gateway as string[]),
      kvMap(p.flags['aux-address'] as string[]),
    );
    return {
      kind: 'network.create' as const,
      name: p.args[0],
      driver: p.flags.driver as string,
      ipam,
      internal: p.flags.internal as boolean,
      attachable: p.flags.attachable as boolean,
      labels: kvMap(p.flags.label as string[]),
      options: kvMap(p.flags.opt as string[]),
      ipv6: p.flags.ipv6 as boolean,
      ipamDriver: p.flags['ipam-driver'] as string,
      ipamOptions: kvMap(p.flags['ipam-opt'] as string[]),
      scope: p.flags.scope as string,
      ingress: p.flags.ingress as boolean,
      configOnly: p.flags['config-only'] as boolean,
      configFrom: (p.flags['config-from'] as string) || undefined,
    };
  },
  async run(spec, ctx) {
    let id: string;
    try {
      const net = await ctx.docker.createNetwork({
        Name: spec.name,
        CheckDuplicate: true,
        Driver: spec.driver,
        Options: spec.options,
        // The body docker 20.10's NetworkCreate sends; swarm-only settings are the engine's to refuse.
        IPAM: { Driver: spec.ipamDriver, Config: spec.ipam, Options: spec.ipamOptions },
        Internal: spec.internal,
        Attachable: spec.attachable,
        Ingress: spec.ingress,
        EnableIPv6: spec.ipv6,
        Scope: spec.scope,
        ConfigOnly: spec.configOnly,
        ConfigFrom: spec.configFrom ? { Network: spec.configFrom } : null,
        Labels: spec.labels,
        abortSignal: ctx.signal,
      } as Docker.NetworkCreateOptions);
      id = net.id;
    } catch (err) {
      throw toDockerError(err);
    }
    return ok(`${id}\n`, { id });
  },
});
