import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import type Docker from 'dockerode';
import { defineCommand, ok } from '../define.js';
import { kvMap, stringsFlag } from '../kv.js';
import { toDockerError, UsageError } from '../../errors.js';

const IpamConfig = z.object({ Subnet: z.string(), IPRange: z.string().optional(), Gateway: z.string().optional() });

export const NetworkCreateSpec = z.object({
  kind: z.literal('network.create'),
  name: z.string().min(1),
  driver: z.string(),
  ipam: z.array(IpamConfig),
  internal: z.boolean(),
  attachable: z.boolean(),
  labels: z.record(z.string(), z.string()),
  options: z.record(z.string(), z.string()),
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
 * docker's consolidateIpam: every --ip-range and --gateway goes to the --subnet that holds it,
 * with the CLI's own error for a gateway or range without one.
 */
export function consolidateIpam(subnets: string[], ranges: string[], gateways: string[]): z.infer<typeof IpamConfig>[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length) {
    throw new UsageError('every ip-range or gateway must have a corresponding subnet', 1);
  }
  const data = new Map<string, z.infer<typeof IpamConfig>>();
  for (const s of subnets) {
    for (const k of data.keys()) {
      if (subnetMatches(s, k) || subnetMatches(k, s)) throw new UsageError('multiple overlapping subnet configuration is not supported', 1);
    }
    data.set(s, { Subnet: s });
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
  return [...data.values()];
}

export const networkCreate = defineCommand({
  path: ['network', 'create'],
  usage: '[OPTIONS] NETWORK',
  summary: 'Create a network',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'attachable', type: 'bool', help: 'Enable manual container attachment' },
    { name: 'driver', short: 'd', type: 'string', valueName: 'string', default: 'bridge', help: 'Driver to manage the Network' },
    { name: 'gateway', type: 'list', valueName: 'strings', help: 'IPv4 or IPv6 Gateway for the master subnet' },
    { name: 'internal', type: 'bool', help: 'Restrict external access to the network' },
    { name: 'ip-range', type: 'list', valueName: 'strings', help: 'Allocate container ip from a sub-range' },
    { name: 'label', type: 'list', valueName: 'list', help: 'Set metadata on a network' },
    { name: 'opt', short: 'o', type: 'list', valueName: 'map', help: 'Set driver specific options (default map[])' },
    { name: 'subnet', type: 'list', valueName: 'strings', help: 'Subnet in CIDR format that represents a network segment' },
  ],
  spec: NetworkCreateSpec,
  toSpec(p) {
    return {
      kind: 'network.create' as const,
      name: p.args[0],
      driver: p.flags.driver as string,
      ipam: consolidateIpam(stringsFlag(p.flags.subnet as string[]), stringsFlag(p.flags['ip-range'] as string[]), stringsFlag(p.flags.gateway as string[])),
      internal: p.flags.internal as boolean,
      attachable: p.flags.attachable as boolean,
      labels: kvMap(p.flags.label as string[]),
      options: kvMap(p.flags.opt as string[]),
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
        IPAM: { Driver: 'default', Config: spec.ipam.map((c) => ({ ...c, AuxiliaryAddresses: {} })), Options: {} },
        Internal: spec.internal,
        Attachable: spec.attachable,
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
