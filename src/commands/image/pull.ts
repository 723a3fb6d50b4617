import { z } from 'zod';
import type { Readable } from 'node:stream';
import { defineCommand } from '../define.js';
import { DockerError, UsageError, toDockerError } from '../../errors.js';
import { fullString, isValidRef, parseRef, withDefaultTag, familiarString } from '../../docker/refs.js';
import { jsonMessageLine, readJsonMessages, type JsonMessage } from '../../docker/streams.js';
import type { RunContext } from '../../jobs/types.js';
import { registryAuth } from '../../docker/registry-auth.js';

export const ImagePullSpec = z.object({
  kind: z.literal('image.pull'),
  image: z.string().min(1),
  allTags: z.boolean(),
  quiet: z.boolean(),
  platform: z.string().optional(),
});
export type ImagePullSpec = z.infer<typeof ImagePullSpec>;

/**
 * Pulls an image, reporting each layer's progress, and writes what `docker pull` prints when its
 * output is not a terminal. Shared with `run`, which pulls a missing image first.
 */
export async function pullImage(
  ctx: RunContext,
  ref: string,
  opts: { quiet?: boolean; platform?: string; allTags?: boolean; toStderr?: boolean } = {},
): Promise<void> {
  const layers: Record<string, { status: string; current?: number; total?: number }> = {};
  let lastProgress = 0;
  let failure: string | undefined;
  let stream: Readable;
  try {
    // createImage rather than pull: dockerode's pull forces `latest`, which would defeat --all-tags.
    const r = parseRef(ref);
    const fromImage = familiarString({ ...r, tag: undefined, digest: undefined });
    const tag = r.digest ?? r.tag ?? (opts.allTags ? '' : 'latest');
    // Credentials from the server's docker config (what `login` keeps), never from the job.
    const auth = registryAuth(r.domain);
    const args = { fromImage, tag, platform: opts.platform ?? '', abortSignal: ctx.signal };
    stream = (auth ? await ctx.docker.createImage(auth as never, args as never) : await ctx.docker.createImage(args as {})) as unknown as Readable;
  } catch (err) {
    throw toDockerError(err);
  }
  await readJsonMessages(
    stream,
    (m: JsonMessage) => {
      if (m.error) {
        failure = m.errorDetail?.message ?? m.error;
        return;
      }
      if (m.id && m.status && !m.status.startsWith('Pulling from')) {
        layers[m.id] = { status: m.status, current: m.progressDetail?.current, total: m.progressDetail?.total };
        const now = Date.now();
        if (now - lastProgress > 250) {
          lastProgress = now;
          ctx.progress({ action: 'pull', image: ref, layers });
        }
      }
      if (opts.quiet) return;
      const line = jsonMessageLine(m);
      if (line) ctx.output(opts.toStderr ? 'stderr' : 'stdout', line);
    },
    ctx.signal,
  ).catch((err) => {
    throw toDockerError(err);
  });
  if (failure) throw new DockerError(`Error response from daemon: ${failure}`, 1);
  ctx.progress({ action: 'pull', image: ref, layers, done: true });
}

export const imagePull = defineCommand({
  path: ['image', 'pull'],
  aliases: [['pull']],
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  summary: 'Pull an image or a repository from a registry',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', help: 'Download all tagged images in the repository' },
    { name: 'disable-content-trust', type: 'bool', default: true, help: 'Skip image verification' },
    { name: 'platform', type: 'string', valueName: 'string', help: 'Set platform if server is multi-platform capable' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' },
  ],
  spec: ImagePullSpec,
  toSpec(p) {
    const image = p.args[0];
    if (!isValidRef(image)) {
      throw new UsageError(`invalid reference format: repository name must be lowercase`, 1);
    }
    const r = parseRef(image);
    if (p.flags['all-tags'] && (r.tag || r.digest)) {
      throw new UsageError('tag can\'t be used with --all-tags/-a', 1);
    }
    return {
      kind: 'image.pull' as const,
      image,
      allTags: p.flags['all-tags'] as boolean,
      quiet: p.flags.quiet as boolean,
      platform: (p.flags.platform as string) || undefined,
    };
  },
  async run(spec, ctx) {
    const r = spec.allTags ? parseRef(spec.image) : withDefaultTag(parseRef(spec.image));
    if (!spec.allTags && !spec.quiet) {
      // docker prints this itself before the engine's own lines when the tag was implied.
      if (!parseRef(spec.image).tag && !r.digest) ctx.output('stdout', 'Using default tag: latest\n');
    }
    await pullImage(ctx, familiarString(r), { quiet: spec.quiet, platform: spec.platform, allTags: spec.allTags });
    const printed = r.domain === 'docker.io' ? fullString(r) : familiarString(r);
    return { exitCode: 0, stdout: `${printed}\n`, stderr: '', streamed: true, truncated: false, data: { image: printed } };
  },
});
