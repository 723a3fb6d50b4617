import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { toDockerError } from '../../errors.js';
import { tabwriteText } from '../../render/tabwriter.js';

export const ContainerTopSpec = z.object({
  kind: z.literal('container.top'),
  container: z.string().min(1),
  /** Options for ps, joined by spaces as docker sends them. */
  psArgs: z.string(),
});
export type ContainerTopSpec = z.infer<typeof ContainerTopSpec>;

export const containerTop = defineCommand({
  path: ['container', 'top'],
  aliases: [['top']],
  usage: 'CONTAINER [ps OPTIONS]',
  summary: 'Display the running processes of a container',
  args: { min: 1 },
  // Everything after the container goes to ps: `top web -o pid,comm`.
  interspersed: false,
  flags: [],
  spec: ContainerTopSpec,
  toSpec(p) {
    return { kind: 'container.top' as const, container: p.args[0], psArgs: p.args.slice(1).join(' ') };
  },
  async run(spec, ctx) {
    let top: { Titles: string[]; Processes: string[][] | null };
    try {
      top = (await ctx.docker.getContainer(spec.container).top({ ps_args: spec.psArgs || undefined, abortSignal: ctx.signal } as {})) as typeof top;
    } catch (err) {
      throw toDockerError(err);
    }
    // docker: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0).
    const text = [top.Titles, ...(top.Processes ?? [])].map((row) => `${row.join('\t')}\n`).join('');
    return ok(tabwriteText(text, { minwidth: 20, padding: 3 }), top);
  },
});
