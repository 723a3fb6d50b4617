import { z } from 'zod';
import { defineCommand } from '../define.js';
import { goTimeOfRfc3339 } from './ls.js';
import { inspectOutput, type Inspected } from '../../render/inspect-output.js';
import { notFoundOr } from '../../errors.js';

export const NetworkInspectSpec = z.object({
  kind: z.literal('network.inspect'),
  networks: z.array(z.string()).min(1),
  verbose: z.boolean(),
  format: z.string().optional(),
});
export type NetworkInspectSpec = z.infer<typeof NetworkInspectSpec>;

/** A Go time.Time in a template ("2026-11-29 06:26:21.8 +0000 UTC"), its RFC 3339 text in JSON. */
class GoTime {
  constructor(private readonly rfc3339: string) {}
  toString(): string {
    return goTimeOfRfc3339(this.rfc3339);
  }
  toJSON(): string {
    return this.rfc3339;
  }
}
Object.defineProperty(GoTime, 'name', { value: 'time.Time' });

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
        const net = ctx.docker.getNetwork(name) as unknown as { inspect(opts: object): Promise<Record<string, unknown>> };
        const n = await net.inspect({ verbose: spec.verbose, abortSignal: ctx.signal });
        // docker prints the engine's own JSON (its key order); templates see Created as a time.Time.
        if (typeof n.Created === 'string') n.Created = new GoTime(n.Created);
        items.push({ value: n });
      } catch (err) {
        const e = notFoundOr(err, 'network', name);
        if (e.code === 'unavailable') throw e;
        items.push({ error: e.message });
      }
    }
    return inspectOutput(items, {
      format: spec.format,
      htmlEscape: false,
      // docker falls back to the raw JSON as a map, with missingkey=error.
      execError: (m) => m.replace(/can't evaluate field (\S+) in type map\[string\]interface \{\}/, 'map has no entry for key "$1"'),
    });
  },
});
