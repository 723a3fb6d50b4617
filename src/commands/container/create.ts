import { z } from 'zod';
import { defineCommand } from '../define.js';
import { createContainer } from './run.js';
import { CONTAINER_FLAGS, ContainerConfigSpec, containerConfig } from './run-options.js';

export const ContainerCreateSpec = ContainerConfigSpec.extend({
  kind: z.literal('container.create'),
  /** -i/-t were given: said once on stderr, since there is no terminal to attach later. */
  noTerminalNote: z.boolean(),
});
export type ContainerCreateSpec = z.infer<typeof ContainerCreateSpec>;

export const containerCreate = defineCommand({
  path: ['container', 'create'],
  aliases: [['create']],
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create a new container',
  args: { min: 1 },
  interspersed: false,
  flags: CONTAINER_FLAGS,
  spec: ContainerCreateSpec,
  toSpec(p) {
    return {
      kind: 'container.create' as const,
      ...containerConfig(p, 'create'),
      noTerminalNote: (p.flags.interactive as boolean) || (p.flags.tty as boolean),
    };
  },
  async run(spec, ctx) {
    if (spec.noTerminalNote) ctx.output('stderr', 'dockops: -i/-t ignored: there is no terminal here; output is captured\n');
    // docker create attaches stdout and stderr (Config.AttachStdout/Stderr) unless -a says otherwise.
    const container = await createContainer(ctx, spec, true, 'create');
    return { exitCode: 0, stdout: `${container.id}\n`, stderr: '', streamed: false, truncated: false, data: { id: container.id } };
  },
});
