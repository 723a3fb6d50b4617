import { z } from 'zod';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { defineCommand } from '../define.js';
import { DockerError, UsageError, toDockerError } from '../../errors.js';
import { isValidRef } from '../../docker/refs.js';
import { isGitUrl, parseGitContext, withGitContext } from '../../docker/git-context.js';
import { packContext } from '../../docker/context-tar.js';
import { jsonMessageLine, readJsonMessages, type JsonMessage } from '../../docker/streams.js';
import { humanSize } from '../../render/units.js';
import { ARTIFACT_REF } from '../../artifacts/store.js';
import type { RunContext } from '../../jobs/types.js';

export const ImageBuildSpec = z.object({
  kind: z.literal('image.build'),
  /**
   * A git URL (`https://host/repo.git#ref:dir`, `git@host:repo.git`, `file:///srv/repo#main`) or
   * an uploaded tar of the context (`artifact:ID`, optionally compressed).
   */
  context: z.string().min(1),
  tags: z.array(z.string()),
  file: z.string().optional(),
  buildArgs: z.record(z.string(), z.string()),
  labels: z.record(z.string(), z.string()),
  noCache: z.boolean(),
  pull: z.boolean(),
  target: z.string().optional(),
  quiet: z.boolean(),
  /** Remove intermediate containers even when a step fails (docker build --force-rm). */
  forceRm: z.boolean().default(false),
});
export type ImageBuildSpec = z.infer<typeof ImageBuildSpec>;

/** `KEY=VALUE` pairs of a list flag; a bare `KEY` is "" for labels and left out for build args. */
export function keyValues(raw: string[], bareValue: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of raw) {
    const eq = kv.indexOf('=');
    if (eq < 0) {
      // docker reads a bare --build-arg from the client's environment; the server's is not shared.
      if (bareValue !== undefined) out[kv] = bareValue;
    } else out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** A Dockerfile that is not in an archive is built on its own, as `docker build - < Dockerfile` does. */
const LONE_DOCKERFILE_MAX = 1024 * 1024;

/**
 * True when the first bytes are an archive the engine unpacks as a context: gzip, bzip2, xz or
 * zstd, or a tar header (its checksum checked, as Go's tar reader does).
 */
export function isArchive(head: Buffer): boolean {
  const starts = (...b: number[]) => b.every((x, i) => head[i] === x);
  if (starts(0x1f, 0x8b, 0x08) || starts(0x42, 0x5a, 0x68) || starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00) || starts(0x28, 0xb5, 0x2f, 0xfd)) return true;
  if (head.length < 512) return false;
  const field = head.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : head[i];
  return sum === Number.parseInt(field, 8);
}

/** A tar holding one file, in memory (a lone Dockerfile is small). */
async function tarOfOne(name: string, content: Buffer): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name, size: content.length, mode: 0o644 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The uploaded context: an archive goes to the engine as it is; a lone Dockerfile is put in a tar first. */
async function artifactContext(id: string, ctx: RunContext, dockerfile: string): Promise<{ body: Readable; size: number; dockerfile: string }> {
  const head = await ctx.artifacts.head(id, 512);
  const { artifact, stream } = await ctx.artifacts.open(id);
  if (isArchive(head)) return { body: stream, size: artifact.size, dockerfile };
  if (artifact.size > LONE_DOCKERFILE_MAX) {
    stream.destroy();
    throw new UsageError(`the build context artifact:${id} (${artifact.name}) is neither a tar archive (optionally gzip, bzip2 or xz compressed) nor a Dockerfile`, 1);
  }
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const body = await tarOfOne('Dockerfile', Buffer.concat(chunks));
  return { body: Readable.from([body]), size: body.length, dockerfile: 'Dockerfile' };
}

export const imageBuild = defineCommand({
  path: ['image', 'build'],
  aliases: [['build']],
  usage: '[OPTIONS] PATH | URL | -',
  summary: 'Build an image from a Dockerfile (the context: a git URL, or a tar uploaded as artifact:ID; the CLI uploads a local directory)',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'build-arg', type: 'list', valueName: 'list', help: 'Set build-time variables' },
    { name: 'file', short: 'f', type: 'string', valueName: 'string', help: 'Name of the Dockerfile (Default is \'PATH/Dockerfile\')' },
    { name: 'force-rm', type: 'bool', help: 'Always remove intermediate containers' },
    { name: 'label', type: 'list', valueName: 'list', help: 'Set metadata for an image' },
    { name: 'no-cache', type: 'bool', help: 'Do not use cache when building the image' },
    { name: 'pull', type: 'bool', help: 'Always attempt to pull a newer version of the image' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the build output and print image ID on success' },
    { name: 'tag', short: 't', type: 'list', valueName: 'list', help: "Name and optionally a tag in the 'name:tag' format" },
    { name: 'target', type: 'string', valueName: 'string', help: 'Set the target build stage to build.' },
  ],
  spec: ImageBuildSpec,
  toSpec(p) {
    const context = p.args[0];
    if (context === '-') {
      throw new UsageError('dockops has no stdin here: upload the context as a tar (POST /api/artifacts) and give artifact:ID; `dockops docker build -t NAME -` uploads its stdin for you.', 1);
    }
    if (!ARTIFACT_REF.test(context)) {
      if (!isGitUrl(context)) {
        throw new UsageError(
          `"${context}" is not a git URL or an uploaded context. dockops builds from git URLs (https://host/repo.git#ref:dir, git@host:repo.git, file:///path/repo#ref) ` +
            `or from a tar of the context uploaded as an artifact (artifact:ID; \`dockops docker build -t NAME DIR\` packs and uploads a local directory for you): ` +
            `a directory on the dockops server is not accepted, since its Docker socket is root and would read any server file.`,
          1,
        );
      }
      try {
        parseGitContext(context);
      } catch (err) {
        throw new UsageError((err as Error).message, 1);
      }
    }
    const tags = p.flags.tag as string[];
    for (const t of tags) {
      if (!isValidRef(t) || t.includes('@')) {
        const why = t !== t.toLowerCase() ? 'invalid reference format: repository name must be lowercase' : 'invalid reference format';
        throw new UsageError(`invalid argument "${t}" for "-t, --tag" flag: ${why}\nSee 'docker build --help'.`);
      }
    }
    const file = (p.flags.file as string) || undefined;
    if (file && (file.startsWith('/') || file.split('/').includes('..'))) {
      throw new UsageError(`the Dockerfile (-f ${file}) must be a relative path inside the build context`, 1);
    }
    return {
      kind: 'image.build' as const,
      context,
      tags,
      file,
      buildArgs: keyValues(p.flags['build-arg'] as string[], undefined),
      labels: keyValues(p.flags.label as string[], ''),
      noCache: p.flags['no-cache'] as boolean,
      pull: p.flags.pull as boolean,
      target: (p.flags.target as string) || undefined,
      quiet: p.flags.quiet as boolean,
      forceRm: p.flags['force-rm'] as boolean,
    };
  },
  async run(spec, ctx) {
    let imageId: string | undefined;
    const tagged: string[] = [];
    let quietText = '';
    let failure: { message: string; code: number } | undefined;
    let at = { step: 0, of: 0 };
    /** Sends a context tar to the engine and follows the build's messages. */
    const build = async (body: Readable, size: number, dockerfile: string) => {
      if (!spec.quiet) ctx.output('stdout', `Sending build context to Docker daemon  ${humanSize(size, 4)}\n`);
      ctx.progress({ action: 'build', context: spec.context, sent: size });
      let stream: Readable;
      try {
        const opts: Record<string, unknown> = {
          t: spec.tags,
          dockerfile,
          buildargs: spec.buildArgs,
          labels: spec.labels,
          nocache: spec.noCache,
          pull: spec.pull,
          q: spec.quiet,
          rm: true,
          forcerm: spec.forceRm,
          abortSignal: ctx.signal,
        };
        if (spec.target) opts.target = spec.target;
        stream = (await ctx.docker.buildImage(body as unknown as NodeJS.ReadableStream, opts as {})) as unknown as Readable;
      } catch (err) {
        body.destroy();
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
          if (m.aux && typeof m.aux.ID === 'string') imageId = m.aux.ID;
          if (m.stream) {
            const step = /^Step (\d+)\/(\d+) : /.exec(m.stream);
            if (step) {
              at = { step: Number(step[1]), of: Number(step[2]) };
              ctx.progress({ action: 'build', ...at });
            }
            const t = /^Successfully tagged (.+)\n?$/.exec(m.stream);
            if (t) tagged.push(t[1]);
          }
          const line = jsonMessageLine(m);
          if (!line) return;
          // -q: the engine sends only the image id; docker prints it once the build succeeds.
          if (spec.quiet) quietText += line;
          else ctx.output('stdout', line);
        },
        ctx.signal,
      ).catch((err) => {
        throw toDockerError(err);
      });
    };
    try {
      const uploaded = ARTIFACT_REF.exec(spec.context);
      if (uploaded) {
        const c = await artifactContext(uploaded[1], ctx, spec.file ?? 'Dockerfile');
        await build(c.body, c.size, c.dockerfile);
      } else {
        const dockerfile = spec.file ?? 'Dockerfile';
        await withGitContext(
          parseGitContext(spec.context),
          async (dir, tmp) => {
            const tarPath = join(tmp, 'context.tar');
            await pipeline(packContext(dir, { dockerfile }), createWriteStream(tarPath));
            await build(createReadStream(tarPath), (await stat(tarPath)).size, dockerfile);
          },
          ctx.signal,
        );
      }
    } catch (err) {
      if (err instanceof DockerError || err instanceof UsageError || ctx.signal.aborted) throw err;
      throw toDockerError(err);
    }
    if (failure) throw new DockerError(failure.message, failure.code);
    if (!imageId && spec.quiet) imageId = quietText.trim() || undefined;
    ctx.progress({ action: 'build', ...at, done: true, image: imageId });
    return { exitCode: 0, stdout: quietText, stderr: '', streamed: true, truncated: false, data: { image: imageId, tags: tagged } };
  },
});
