import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { stringsFlag } from '../kv.js';
import { toDockerError, UsageError } from '../../errors.js';

export const NetworkConnectSpec = z.object({
  kind: z.literal('network.connect'),
  network: z.string(),
  container: z.string(),
  aliases: z.array(z.string()),
  ip: z.string().optional(),
  ip6: z.string().optional(),
  links: z.array(z.string()),
  linkLocalIps: z.array(z.string()),
  driverOpts: z.record(z.string(), z.string()),
});
export type NetworkConnectSpec = z.infer<typeof NetworkConnectSpec>;

const USAGE_TAIL = "\nSee 'docker network connect --help'.";

/** docker's opts.ValidateLink (ParseLink): `name` or `name:alias`, checked as the flag is read. */
export function validateLink(link: string, tail = USAGE_TAIL): string {
  const bad = (why: string) => new UsageError(`invalid argument "${link}" for "--link" flag: ${why}${tail}`);
  if (link === '') throw bad('empty string specified for links');
  if (link.split(':').length > 2) throw bad(`bad format for links: ${link}`);
  return link;
}

/** docker 20.10's convertDriverOpt: `key=value`, both trimmed; a word without `=` is refused. */
function driverOpts(words: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) throw new UsageError('invalid key/value pair format in driver options', 1);
    out[w.slice(0, eq).trim()] = w.slice(eq + 1).trim();
  }
  return out;
}

export const networkConnect = defineCommand({
  path: ['network', 'connect'],
  usage: '[OPTIONS] NETWORK CONTAINER',
  summary: 'Connect a container to a network',
  args: { min: 2, max: 2 },
  flags: [
    { name: 'alias', type: 'list', valueName: 'strings', help: 'Add network-scoped alias for the container' },
    { name: 'driver-opt', type: 'list', valueName: 'strings', help: 'driver options for the network' },
    { name: 'ip', type: 'string', valueName: 'string', help: 'IPv4 address (e.g., 172.30.100.104)' },
    { name: 'ip6', type: 'string', valueName: 'string', help: 'IPv6 address (e.g., 2001:db8::33)' },
    { name: 'link', type: 'list', valueName: 'list', help: 'Add link to another container' },
    { name: 'link-local-ip', type: 'list', valueName: 'strings', help: 'Add a link-local address for the container' },
  ],
  spec: NetworkConnectSpec,
  toSpec: (p) => ({
    kind: 'network.connect' as const,
    network: p.args[0],
    container: p.args[1],
    aliases: stringsFlag(p.flags.alias as string[]),
    ip: (p.flags.ip as string) || undefined,
    ip6: (p.flags.ip6 as string) || undefined,
    links: (p.flags.link as string[]).map((l) => validateLink(l)),
    linkLocalIps: stringsFlag(p.flags['link-local-ip'] as string[]),
    driverOpts: driverOpts(stringsFlag(p.flags['driver-opt'] as string[])),
  }),
  async run(spec, ctx) {
    try {
      // The endpoint docker 20.10 sends: the IPAM part always there, the engine checks the addresses.
      await ctx.docker.getNetwork(spec.network).connect({
        Container: spec.container,
        EndpointConfig: {
          IPAMConfig: { IPv4Address: spec.ip ?? '', IPv6Address: spec.ip6 ?? '', LinkLocalIPs: spec.linkLocalIps },
          // docker's ListOpts gives nil when no --link was given: the engine keeps null, not [].
          Links: spec.links.length ? spec.links : null,
          Aliases: spec.aliases,
          DriverOpts: spec.driverOpts,
        },
        abortSignal: ctx.signal,
      } as {});
    } catch (err) {
      // The daemon's words, as docker prints them: "No such container: x", "network x not found".
      throw toDockerError(err);
    }
    return ok('');
  },
});
