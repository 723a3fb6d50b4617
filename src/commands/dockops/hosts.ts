import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { formatRows } from '../../render/table.js';
import { DockopsError } from '../../errors.js';

export const HostsSpec = z.object({
  kind: z.literal('hosts'),
  quiet: z.boolean(),
  format: z.string().optional(),
});
export type HostsSpec = z.infer<typeof HostsSpec>;

const DEFAULT = 'table {{.Name}}\t{{.Engine}}\t{{.Workers}}\t{{.Waiting}}\t{{.Active}}\t{{.Delayed}}\t{{.URL}}\t{{.Error}}';
const HEADERS = {
  Name: 'NAME',
  Default: 'DEFAULT',
  URL: 'URL',
  Engine: 'ENGINE',
  APIVersion: 'API VERSION',
  Workers: 'WORKERS',
  Waiting: 'WAITING',
  Active: 'ACTIVE',
  Delayed: 'DELAYED',
  Error: 'ERROR',
};

/**
 * dockops's own verb: every configured Docker host (DOCKOPS_DOCKER_HOSTS) with its engine version
 * (or why it cannot be reached), the live workers on its queue and the queue's depth. Laid out as
 * `docker context ls`: the default host is marked `*`, errors go in the last column and exit 0.
 * It runs on a worker like any job (doors make no Docker call); the worker is given every host.
 */
export const hosts = defineCommand({
  path: ['hosts'],
  usage: '[OPTIONS]',
  summary: 'List the Docker hosts dockops drives, their engines, workers and queues',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only show host names' },
    { name: 'format', type: 'string', valueName: 'string', help: 'Format output using a custom template (.Name .Default .URL .Engine .APIVersion .Workers .Waiting .Active .Delayed .Error), or json' },
  ],
  spec: HostsSpec,
  toSpec(p) {
    return { kind: 'hosts' as const, quiet: p.flags.quiet as boolean, format: (p.flags.format as string) || undefined };
  },
  async run(spec, ctx) {
    if (!ctx.fleetStatus) throw new DockopsError('this worker was not given the list of hosts', 'unavailable', 1);
    const found = await ctx.fleetStatus();
    if (spec.quiet) return ok(found.map((h) => `${h.name}\n`).join(''), { hosts: found });
    const count = (n: number) => (n < 0 ? '?' : n);
    const rows = found.map((h) => ({
      Name: h.default && !spec.format ? `${h.name} *` : h.name,
      Default: h.default,
      URL: h.url,
      Engine: h.engine?.version ?? '-',
      APIVersion: h.engine?.apiVersion ?? '-',
      Workers: count(h.workers),
      Waiting: h.waiting,
      Active: h.active,
      Delayed: h.delayed,
      Error: h.error ?? '',
    }));
    return ok(formatRows(rows, { format: spec.format, defaultFormat: DEFAULT, headers: HEADERS }), { hosts: found });
  },
});
