import { z } from 'zod';
import type { Readable } from 'node:stream';
import { defineCommand } from '../define.js';
import { DockerError, UsageError, toDockerError } from '../../errors.js';
import { familiarName, familiarString, isValidRef, parseRef } from '../../docker/refs.js';
import { jsonMessageLine, readJsonMessages, type JsonMessage } from '../../docker/streams.js';
import { registryAuth } from '../../docker/registry-auth.js';
import type { RunContext } from '../../jobs/types.js';

export const ImagePushSpec = z.object({
  kind: z.literal('image.push'),
  image: z.string().min(1),
  allTags: z.boolean(),
  quiet: z.boolean(),
});
export type ImagePushSpec = z.infer<typeof ImagePushSpec>;

/** A layer's state as the engine last said it during a push. */
interface LayerState {
  status: string;
  current?: number;
  total?: number;
}

/** What a push leaves in its job's progress (read again by the attempt that takes over from a dead worker). */
interface PushProgress {
  action: 'push';
  image: string;
  layers: Record<string, LayerState>;
  done?: boolean;
}

/** The engine's words for a layer the registry has whole. */
const LAYER_DONE = /^(Pushed|Layer already exists|Mounted from )/;

/**
 * When a worker died in the middle of this push and another took the job up, says so and how far
 * the dead attempt got, as far as its last progress tells (the engine reports layers as it meets
 * them, and progress is saved a few times a second, so the count can lag behind what it did).
 * Pushing again is safe: the engine asks the registry for each layer first and sends only what is
 * missing, and the same image gives the same manifest, so the digest is the one the first attempt
 * would have got.
 */
function sayRetake(ctx: RunContext, shown: string): void {
  if (ctx.attempt <= 1) return;
  const prev = ctx.previousProgress as Partial<PushProgress> | undefined;
  if (prev?.action !== 'push' || prev.image !== shown) return;
  const states = Object.values(prev.layers ?? {});
  const done = states.filter((l) => LAYER_DONE.test(l.status)).length;
  const far = prev.done
    ? `had pushed it (${states.length} layer(s)) but died before the job ended`
    : `had begun it (${states.length ? `${done} of ${states.length} layer(s) done when it last reported` : 'no layer had been reported yet'})`;
  ctx.output('stderr', `dockops: pushing ${shown} again: the attempt that died ${far}; layers the registry has whole are not sent again\n`);
}

/** One tag the registry took, from the engine's aux message. */
export interface PushedTag {
  tag: string;
  digest: string;
  size: number;
}

export const imagePush = defineCommand({
  path: ['image', 'push'],
  aliases: [['push']],
  usage: '[OPTIONS] NAME[:TAG]',
  summary: 'Upload an image to a registry',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', help: 'Push all tags of an image to the repository' },
    { name: 'disable-content-trust', type: 'bool', default: true, help: 'Skip image signing' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' },
  ],
  spec: ImagePushSpec,
  toSpec(p) {
    const image = p.args[0];
    if (!isValidRef(image)) {
      throw new UsageError(`invalid reference format: repository name must be lowercase`, 1);
    }
    const r = parseRef(image);
    if (r.digest) throw new UsageError('cannot push a digest reference', 1);
    if (p.flags['all-tags'] && r.tag) throw new UsageError("tag can't be used with --all-tags/-a", 1);
    return { kind: 'image.push' as const, image, allTags: p.flags['all-tags'] as boolean, quiet: p.flags.quiet as boolean };
  },
  async run(spec, ctx) {
    const r = parseRef(spec.image);
    const tag = spec.allTags ? undefined : (r.tag ?? 'latest');
    // docker prints this itself when the tag was implied (quiet or not).
    if (!spec.allTags && !r.tag) ctx.output('stdout', 'Using default tag: latest\n');
    const name = familiarName(r);
    const shown = tag ? `${name}:${tag}` : name;
    // Credentials from the server's own docker config; never logged, never in the job data.
    const authconfig = registryAuth(r.domain) ?? {};
    sayRetake(ctx, shown);
    const layers: Record<string, LayerState> = {};
    const pushed: PushedTag[] = [];
    let lastProgress = 0;
    let failure: { message: string; code: number } | undefined;
    let stream: Readable;
    try {
      stream = (await ctx.docker.getImage(name).push({ ...(tag ? { tag } : {}), authconfig, abortSignal: ctx.signal } as {})) as unknown as Readable;
    } catch (err) {
      throw toDockerError(err);
    }
    await readJsonMessages(
      stream,
      (m: JsonMessage) => {
        if (m.error) {
          const detail = m.errorDetail as { message?: string; code?: number } | undefined;
          failure = { message: detail?.message ?? m.error, code: detail?.code || 1 };
          return;
        }
        if (m.aux && typeof m.aux.Digest === 'string') {
          pushed.push({ tag: String(m.aux.Tag ?? ''), digest: m.aux.Digest, size: Number(m.aux.Size ?? 0) });
        }
        if (m.id && m.status) {
          const changed = layers[m.id]?.status !== m.status;
          layers[m.id] = { status: m.status, current: m.progressDetail?.current, total: m.progressDetail?.total };
          const now = Date.now();
          // A layer's new state is saved at once (an attempt that takes over reads how far this got); byte counts a few times a second.
          if (changed || now - lastProgress > 250) {
            lastProgress = now;
            ctx.progress({ action: 'push', image: shown, layers } satisfies PushProgress);
          }
        }
        if (spec.quiet) return;
        const line = jsonMessageLine(m);
        if (line) ctx.output('stdout', line);
      },
      ctx.signal,
    ).catch((err) => {
      throw toDockerError(err);
    });
    if (failure) throw new DockerError(failure.message, failure.code);
    ctx.progress({ action: 'push', image: shown, layers, done: true } satisfies PushProgress);
    const data = { image: familiarString({ ...r, tag }), pushed, digest: pushed[0]?.digest };
    // -q prints the reference pushed, as docker 20.10 does.
    return { exitCode: 0, stdout: spec.quiet ? `${shown}\n` : '', stderr: '', streamed: true, truncated: false, data };
  },
});
