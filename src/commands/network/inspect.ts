import { z } from 'zod';
import { defineCommand } from '../define.js';
import { engineRaw } from '../container/inspect.js';
import { inspectOutput, type Inspected } from '../../render/inspect-output.js';
import { notFoundOr } from '../../errors.js';
import { typedNetwork } from '../../render/docker-types.js';

export const NetworkInspectSpec = z.object({
  kind: z.literal('network.inspect'),
  networks: z.array(z.string()).min(1),
  verbose: z.boolean(),
  format: z.string().optional(),
});
export type NetworkInspectSpec = z.infer<typeof NetworkInspectSpec>;

export const networkInspect = defineCommand({
  path: ['network', 'inspect'],
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  summary: 'Display detailed information on one or more networks',
  args: { min: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', valueName: 'string', help: 'Format the output using the given Go template' },
    { name: 'verbose', short: 'v', type: 'bool', help: 'Verbose output for diagnostics' },
  ],
  spec: NetworkInspectSpec,
  toSpec: (p) => ({
    kind: 'network.inspect' as const,
    networks: p.args,
    verbose: p.flags.verbose as boolean,
    format: (p.flags.format as string) || undefined,
  }),
  async run(spec, ctx) {
    const items: Inspected[] = [];
    for (const name of spec.networks) {
      try {
        // docker prints the engine's own bytes; templates see types.NetworkResource, then the raw JSON.
        const text = await engineRaw(ctx, `/networks/${encodeURIComponent(name)}`, spec.verbose ? { verbose: true } : {});
        const value: unknown = JSON.parse(text);
        items.push({ value, text, typed: typedNetwork(value), fallback: true });
      } catch (err) {
        const e = notFoundOr(err, 'network', name);
        if (e.code === 'unavailable') throw e;
        items.push({ error: e.message });
      }
    }
    return inspectOutput(items, { format: spec.format, htmlEscape: false });
  },
});
