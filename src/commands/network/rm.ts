import { z } from 'zod';
import { defineCommand } from '../define.js';
import { notFoundOr } from '../../errors.js';

export const NetworkRmSpec = z.object({
  kind: z.literal('network.rm'),
  networks: z.array(z.string()).min(1),
});
export type NetworkRmSpec = z.infer<typeof NetworkRmSpec>;

export const networkRm = defineCommand({
  path: ['network', 'rm'],
  aliases: [['network', 'remove']],
  usage: 'NETWORK [NETWORK...]',
  summary: 'Remove one or more networks',
  args: { min: 1 },
  destructive: true,
  flags: [],
  spec: NetworkRmSpec,
  toSpec: (p) => ({ kind: 'network.rm' as const, networks: p.args }),
  async run(spec, ctx) {
    // As docker: each in turn, the names removed on stdout, each failure on stderr; exit 1 if any failed.
    let stdout = '';
    const errors: string[] = [];
    for (const name of spec.networks) {
      try {
        await ctx.docker.getNetwork(name).remove({ abortSignal: ctx.signal } as {});
        stdout += `${name}\n`;
      } catch (err) {
        const e = notFoundOr(err, 'network', name);
        if (e.code === 'unavailable') throw e;
        errors.push(e.message);
      }
    }
    return {
      exitCode: errors.length ? 1 : 0,
      stdout,
      stderr: errors.map((e) => `${e}\n`).join(''),
      streamed: false,
      truncated: false,
      data: { removed: stdout.split('\n').filter(Boolean), errors },
    };
  },
});
