import { z } from 'zod';
import { createRequire } from 'node:module';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Ignore } from '@balena/dockerignore';
import { defineCommand } from '../define.js';
import { DockerError, UsageError, toDockerError } from '../../errors.js';
import { isValidRef } from '../../docker/refs.js';
import { isGitUrl, parseGitContext, withGitContext } from '../../docker/git-context.js';
import { jsonMessageLine, readJsonMessages, type JsonMessage } from '../../docker/streams.js';
import { humanSize } from '../../render/units.js';

const require = createRequire(import.meta.url);
// A CommonJS factory (module.exports = fn) whose types claim a default export.
const dockerignore = require('@balena/dockerignore') as (opts?: { ignorecase?: boolean }) => Ignore;
// tar-fs ships no types; only pack() is used.
const tarFs = require('tar-fs') as {
  pack(dir: string, opts: { ignore?: (name: string) => boolean }): Readable;
};

export const ImageBuildSpec = z.object({
  kind: z.literal('image.build'),
  /** A git URL: `https://host/repo.git#ref:dir`, `git@host:repo.git`, `file:///srv/repo#main`. */
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

/** Packs the context as the docker CLI does: .dockerignore honoured, Dockerfile and .dockerignore always sent, .git left out. */
export async function packContext(dir: string, dockerfile: string, out: string): Promise<number> {
  let patterns: string[] = [];
  try {
    patterns = (await readFile(join(dir, '.dockerignore'), 'utf8'))
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
  } catch {
    /* no .dockerignore */
  }
  const ig = dockerignore({ ignorecase: false }).add(patterns);
  const keep = new Set([dockerfile.split(sep).join('/').replace(/^\.\//, ''), '.dockerignore']);
  const pack = tarFs.pack(dir, {
    ignore(name) {
      const rel = relative(dir, name).split(sep).join('/');
      if (!rel) return false;
      if (rel === '.git' || rel.startsWith('.git/')) return true;
      if (keep.has(rel)) return false;
      return ig.ignores(rel);
    },
  });
  await pipeline(pack, createWriteStream(out));
  return (await stat(out)).size;
}

export const imageBuild = defineCommand({
  path: ['image', 'build'],
  aliases: [['build']],
  usage: '[OPTIONS] PATH | URL | -',
  summary: 'Build an image from a Dockerfile (the context is a git URL: https://host/repo.git#ref:dir)',
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
      throw new UsageError('dockops cannot read a build context from stdin: give the context as a git URL (https://host/repo.git#ref:dir).', 1);
    }
    if (!isGitUrl(context)) {
      throw new UsageError(
        `"${context}" is not a git URL. dockops builds only from git URLs (https://host/repo.git#ref:dir, git@host:repo.git, file:///path/repo#ref): ` +
          `a directory on the dockops server is not accepted, since its Docker socket is root and would read any server file.`,
        1,
      );
    }
    try {
      parseGitContext(context);
    } catch (err) {
      throw new UsageError((err as Error).message, 1);
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
    const git = parseGitContext(spec.context);
    const dockerfile = spec.file ?? 'Dockerfile';
    let imageId: string | undefined;
    const tagged: string[] = [];
    let quietText = '';
    let failure: { message: string; code: number } | undefined;
    let at = { step: 0, of: 0 };
    try {
      await withGitContext(
        git,
        async (dir, tmp) => {
          const tarPath = join(tmp, 'context.tar');
          const size = await packContext(dir, dockerfile, tarPath);
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
            stream = (await ctx.docker.buildImage(createReadStream(tarPath) as unknown as NodeJS.ReadableStream, opts as {})) as unknown as Readable;
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
        },
        ctx.signal,
      );
    } catch (err) {
      if (err instanceof DockerError || ctx.signal.aborted) throw err;
      throw toDockerError(err);
    }
    if (failure) throw new DockerError(failure.message, failure.code);
    if (!imageId && spec.quiet) imageId = quietText.trim() || undefined;
    ctx.progress({ action: 'build', ...at, done: true, image: imageId });
    return { exitCode: 0, stdout: quietText, stderr: '', streamed: true, truncated: false, data: { image: imageId, tags: tagged } };
  },
});
