import { z } from 'zod';
import { defineCommand } from '../define.js';
import { imageBuild } from '../image/build.js';
import { imagePush } from '../image/push.js';
import { UsageError } from '../../errors.js';
import type { JobResult } from '../../jobs/types.js';

/** A build that a GitHub push started: build the exact commit, tag it, push every tag. */
export const AutobuildSpec = z.object({
  kind: z.literal('autobuild'),
  repository: z.string(),
  sourceref: z.string(),
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  /** git URL of the commit and context dir (`…#<sha>:dir`). */
  context: z.string(),
  dockerfile: z.string(),
  tags: z.array(z.string()).min(1),
  buildArgs: z.record(z.string(), z.string()),
  labels: z.record(z.string(), z.string()),
  target: z.string().optional(),
  push: z.boolean(),
});
export type AutobuildSpec = z.infer<typeof AutobuildSpec>;

/** Not a docker verb: made by the GitHub door only (typing it gives usage help). */
export const autobuild = defineCommand({
  path: ['builds', 'run'],
  usage: '(started by GitHub pushes; see `builds preview`)',
  summary: 'Build, tag and push an image for a GitHub push (internal)',
  args: { min: 0, max: 0 },
  flags: [],
  spec: AutobuildSpec,
  toSpec() {
    throw new UsageError('builds run is started by GitHub pushes through POST /webhooks/github; it cannot be typed', 1);
  },
  async run(spec, ctx): Promise<JobResult> {
    const built = await imageBuild.run(
      {
        kind: 'image.build',
        context: spec.context,
        tags: spec.tags,
        file: spec.dockerfile,
        buildArgs: spec.buildArgs,
        labels: spec.labels,
        noCache: false,
        pull: false,
        target: spec.target,
        quiet: false,
      },
      ctx,
    );
    if (built.exitCode !== 0 || !spec.push) return built;
    const pushed: unknown[] = [];
    for (const tag of spec.tags) {
      const r = await imagePush.run({ kind: 'image.push', image: tag, allTags: false, quiet: false }, ctx);
      if (r.stdout) ctx.output('stdout', r.stdout);
      if (r.exitCode !== 0) return { ...r, stdout: '', streamed: true };
      pushed.push(r.data);
    }
    return { exitCode: 0, stdout: '', stderr: '', streamed: true, truncated: false, data: { built: built.data, pushed } };
  },
});
