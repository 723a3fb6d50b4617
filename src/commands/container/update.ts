import { z } from 'zod';
import { defineCommand } from '../define.js';
import { UsageError } from '../../errors.js';
import { forEachContainer } from './batch.js';
import { RESOURCE_FLAGS, ResourcesSpec, parseResources } from './resources.js';

/** The resources `docker update` may change (Engine API names, only those given) and the restart policy. */
export const ContainerUpdateSpec = z.object({
  kind: z.literal('container.update'),
  containers: z.array(z.string().min(1)).min(1),
  resources: ResourcesSpec,
  restart: z.object({ Name: z.string(), MaximumRetryCount: z.number().int() }).optional(),
});
export type ContainerUpdateSpec = z.infer<typeof ContainerUpdateSpec>;

/** docker 20.10's flag-error tail (the project's wording for every verb). */
const USAGE_TAIL = "\nSee 'docker update --help'.";

export const containerUpdate = defineCommand({
  path: ['container', 'update'],
  aliases: [['update']],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Update configuration of one or more containers',
  args: { min: 1 },
  flags: [...RESOURCE_FLAGS, { name: 'restart', type: 'string', valueName: 'string', help: 'Restart policy to apply when a container exits' }],
  spec: ContainerUpdateSpec,
  toSpec(p) {
    const resources = parseResources(p, 'update');
    let restart: ContainerUpdateSpec['restart'];
    if (p.given.has('restart')) {
      // opts.ParseRestartPolicy: NAME[:COUNT]; the engine judges the name.
      const [name, count, extra] = (p.flags.restart as string).split(':');
      if (extra !== undefined || (count !== undefined && !/^\d+$/.test(count))) {
        throw new UsageError(`invalid argument "${p.flags.restart}" for "--restart" flag: maximum retry count must be an integer${USAGE_TAIL}`);
      }
      restart = { Name: name, MaximumRetryCount: count ? Number(count) : 0 };
    }
    const anything = Object.keys(resources).length > 0 || restart !== undefined;
    // docker checks this before talking to the engine, with exit code 1.
    if (!anything) throw new UsageError('you must provide one or more flags when using this command', 1);
    return {
      kind: 'container.update' as const,
      containers: p.args,
      resources,
      restart,
    };
  },
  async run(spec, ctx) {
    const warnings: string[] = [];
    const result = await forEachContainer(spec.containers, async (name) => {
      const body = { ...spec.resources, ...(spec.restart ? { RestartPolicy: spec.restart } : {}) };
      const answer = (await ctx.docker.getContainer(name).update({ ...body, abortSignal: ctx.signal } as {})) as { Warnings?: string[] | null } | undefined;
      warnings.push(...(answer?.Warnings ?? []));
      return undefined;
    });
    // docker prints the engine's warnings (kernel memory deprecated, blkio unsupported…) on stdout, after the names.
    return { ...result, stdout: result.stdout + warnings.map((w) => `${w}\n`).join('') };
  },
});
