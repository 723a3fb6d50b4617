import { z } from 'zod';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { defineCommand } from '../define.js';
import { DockerError, UsageError, notFoundOr, toDockerError } from '../../errors.js';
import { ARTIFACT_REF, safeArtifactName } from '../../artifacts/store.js';
import { firstEntryRoot, isDir, renameRoot, statPath } from '../../docker/archive.js';

export const ContainerCpSpec = z.object({
  kind: z.literal('container.cp'),
  copy: z.discriminatedUnion('direction', [
    /** Container → an artifact (a tar of SRC, as `docker cp CTR:SRC -` writes it). */
    z.object({ direction: z.literal('from'), container: z.string().min(1), path: z.string().min(1), followLink: z.boolean(), output: z.string() }),
    /** An uploaded tar → container. `extract`: unpack its content into DEST (docker's `cp - CTR:DEST`). */
    z.object({ direction: z.literal('to'), artifact: z.string(), container: z.string().min(1), path: z.string().min(1), archive: z.boolean(), extract: z.boolean() }),
  ]),
});
export type ContainerCpSpec = z.infer<typeof ContainerCpSpec>;

/** `CONTAINER:PATH` (a container name or ID, then a path); anything else is a local side. */
function containerPath(arg: string): { container: string; path: string } | undefined {
  if (ARTIFACT_REF.test(arg)) return undefined;
  const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(arg);
  return m ? { container: m[1], path: m[2] || '/' } : undefined;
}

export const containerCp = defineCommand({
  path: ['container', 'cp'],
  aliases: [['cp']],
  usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tdocker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  summary: 'Copy files/folders between a container and the local filesystem (files travel as artifacts)',
  args: { min: 2, max: 2 },
  flags: [
    { name: 'archive', short: 'a', type: 'bool', help: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', type: 'bool', help: 'Always follow symbol link in SRC_PATH' },
    { name: 'extract', type: 'bool', hidden: true, help: 'The uploaded tar is content to unpack into DEST (the CLI sets it for `cp - CTR:DEST`)' },
  ],
  spec: ContainerCpSpec,
  toSpec(p) {
    const [a, b] = p.args;
    const from = containerPath(a);
    const to = containerPath(b);
    if (from && to) throw new UsageError('copying between containers is not supported', 1);
    if (!from && !to) throw new UsageError('must specify at least one container source', 1);
    if (from) {
      const base = path.posix.basename(from.path.replace(/\/+$/, '').replace(/\/\.$/, '')) || 'root';
      const output = b === '-' ? `${base}.tar` : safeArtifactName(`${path.basename(b)}`);
      return { kind: 'container.cp' as const, copy: { direction: 'from' as const, container: from.container, path: from.path, followLink: p.flags['follow-link'] as boolean, output } };
    }
    const t = to as { container: string; path: string };
    const m = ARTIFACT_REF.exec(a);
    if (!m) throw new UsageError(`${a}: dockops copies uploaded files into containers: give artifact:ID (\`dockops docker cp FILE ${b}\` uploads it for you)`, 1);
    return {
      kind: 'container.cp' as const,
      copy: { direction: 'to' as const, artifact: m[1], container: t.container, path: t.path, archive: p.flags.archive as boolean, extract: p.flags.extract as boolean },
    };
  },
  async run(spec, ctx) {
    const c = spec.copy;
    try {
      await ctx.docker.getContainer(c.container).inspect();
    } catch (err) {
      throw notFoundOr(err, 'container', c.container);
    }
    const container = ctx.docker.getContainer(c.container);
    if (c.direction === 'from') {
      let src = c.path;
      const stat = await statPath(ctx.docker, c.container, src).catch((err) => {
        throw toDockerError(err);
      });
      if (!stat) throw new DockerError(`Error: No such container:path: ${c.container}:${c.path}`, 1);
      if (c.followLink && stat.linkTarget) src = stat.linkTarget;
      let tarStream: Readable;
      try {
        tarStream = (await container.getArchive({ path: src })) as unknown as Readable;
      } catch (err) {
        throw toDockerError(err);
      }
      const artifact = await ctx.artifacts.write(c.output, tarStream, ctx.jobId);
      return { exitCode: 0, stdout: '', stderr: '', streamed: false, truncated: false, artifacts: [artifact], data: { artifact, stat } };
    }
    // Into the container, with docker's rules for DEST: an existing directory receives the copy;
    // a missing DEST (in an existing directory) becomes the copy, renamed.
    const dest = c.path;
    const destStat = await statPath(ctx.docker, c.container, dest);
    let target = dest;
    let rename: { from: string; to: string } | undefined;
    if (c.extract) {
      if (!destStat || !isDir(destStat)) throw new DockerError(`Error: destination "${c.container}:${dest}" must be a directory`, 1);
    } else if (!destStat || !isDir(destStat)) {
      if (dest.endsWith('/')) throw new DockerError(`Error: no such directory: ${c.container}:${dest}`, 1);
      const parent = path.posix.dirname(dest);
      const parentStat = await statPath(ctx.docker, c.container, parent);
      if (!parentStat || !isDir(parentStat)) throw new DockerError(`Error: no such directory: ${c.container}:${parent}`, 1);
      const root = await firstEntryRoot((await ctx.artifacts.open(c.artifact)).stream);
      if (!root) throw new DockerError('Error: the uploaded archive is empty', 1);
      target = parent;
      rename = { from: root, to: path.posix.basename(dest) };
    }
    const { stream } = await ctx.artifacts.open(c.artifact);
    let body: Readable = stream;
    let renaming: Promise<void> | undefined;
    if (rename) {
      const r = renameRoot(rename.from, rename.to);
      stream.pipe(r.input);
      body = r.output;
      renaming = r.done;
    }
    try {
      await container.putArchive(body, { path: target, copyUIDGID: c.archive ? '1' : undefined } as never);
      await renaming;
    } catch (err) {
      throw toDockerError(err);
    }
    return { exitCode: 0, stdout: '', stderr: '', streamed: false, truncated: false };
  },
});
