import { z } from 'zod';
import type { Readable } from 'node:stream';
import { defineCommand } from '../define.js';
import { DockerError, UsageError, toDockerError } from '../../errors.js';
import { ARTIFACT_REF } from '../../artifacts/store.js';
import { isValidRef, parseRef } from '../../docker/refs.js';
import { readJsonMessages } from '../../docker/streams.js';
import { createImageFrom } from '../../docker/image-create.js';

export const ImageImportSpec = z.object({
  kind: z.literal('image.import'),
  /** An uploaded tarball (artifact id) or an http(s) URL the engine fetches itself. */
  source: z.discriminatedUnion('type', [
    z.object({ type: z.literal('artifact'), id: z.string().regex(/^[0-9a-f]{24}$/) }),
    z.object({ type: z.literal('url'), url: z.string().url() }),
  ]),
  repository: z.string().optional(),
  changes: z.array(z.string()),
  message: z.string().optional(),
  platform: z.string().optional(),
});
export type ImageImportSpec = z.infer<typeof ImageImportSpec>;

const CHANGE = /^(CMD|ENTRYPOINT|ENV|EXPOSE|LABEL|ONBUILD|USER|VOLUME|WORKDIR)\s/i;

export const imageImport = defineCommand({
  path: ['image', 'import'],
  aliases: [['import']],
  usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  summary: 'Import the contents from a tarball to create a filesystem image',
  args: { min: 1, max: 2 },
  flags: [
    { name: 'change', short: 'c', type: 'list', valueName: 'list', help: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', valueName: 'string', help: 'Set commit message for imported image' },
    { name: 'platform', type: 'string', valueName: 'string', help: 'Set platform if server is multi-platform capable' },
  ],
  spec: ImageImportSpec,
  toSpec(p) {
    const [src, repo] = p.args;
    const m = ARTIFACT_REF.exec(src);
    let source: ImageImportSpec['source'];
    if (m) source = { type: 'artifact', id: m[1] };
    else if (/^https?:\/\/[^\s]+$/.test(src)) source = { type: 'url', url: src };
    else {
      throw new UsageError(`${src}: dockops imports uploaded files (artifact:ID; \`dockops docker import FILE\` uploads it for you) or an http(s) URL`, 1);
    }
    if (repo !== undefined && !isValidRef(repo)) throw new UsageError(`invalid reference format: repository name must be lowercase`, 1);
    for (const c of p.flags.change as string[]) {
      if (!CHANGE.test(c)) throw new UsageError(`${c.split(/\s/)[0]} is not a valid change command`, 1);
    }
    return {
      kind: 'image.import' as const,
      source,
      repository: repo,
      changes: p.flags.change as string[],
      message: (p.flags.message as string) || undefined,
      platform: (p.flags.platform as string) || undefined,
    };
  },
  async run(spec, ctx) {
    const r = spec.repository ? parseRef(spec.repository) : undefined;
    const repo = spec.repository ? spec.repository.slice(0, spec.repository.length - (r?.tag ? r.tag.length + 1 : 0)) : undefined;
    const opts = {
      fromSrc: spec.source.type === 'url' ? spec.source.url : '-',
      repo,
      tag: r?.tag,
      message: spec.message,
      changes: spec.changes.length ? spec.changes : undefined,
      platform: spec.platform,
    };
    const clean = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
    let file: Readable | undefined;
    if (spec.source.type === 'artifact') file = await ctx.artifacts.stream(spec.source.id, ctx.signal);
    let out: Readable;
    try {
      out = await createImageFrom(ctx.docker, clean, file);
    } catch (err) {
      throw toDockerError(err);
    }
    let id = '';
    let failure: string | undefined;
    await readJsonMessages(
      out,
      (m) => {
        if (m.error) failure = m.errorDetail?.message ?? m.error;
        else if (m.status && /^sha256:[0-9a-f]{64}$/.test(m.status)) id = m.status;
        else if (m.status && !m.progressDetail?.total) ctx.output('stderr', `${m.status}\n`);
      },
      ctx.signal,
    );
    if (failure) throw new DockerError(`Error response from daemon: ${failure}`, 1);
    return { exitCode: 0, stdout: `${id}\n`, stderr: '', streamed: false, truncated: false, data: { id } };
  },
});
