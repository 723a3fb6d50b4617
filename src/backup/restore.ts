import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { DockerError, UsageError, toDockerError } from '../errors.js';
import type { RunContext } from '../jobs/types.js';
import { backupVolume, quiesced } from './backup.js';
import { Meter } from './meter.js';
import { checkArchive } from './check.js';
import { demuxBuffer } from '../docker/streams.js';
import { decompressStages } from './compress.js';
import { decryptStages } from './age.js';
import { TarScanner } from './tarscan.js';
import type { BackupTarget, Manifest } from './target.js';
import { HELPER_LABEL, inspectVolume, readVolume, withVolumeContainer, writeVolume } from './volumes.js';

/** Creates a volume as the backup's was (driver, labels, options), labelled as made by dockops. */
export async function createVolume(docker: Docker, name: string, like: Pick<Manifest, 'driver' | 'labels' | 'options'>, extra: Record<string, string> = {}) {
  try {
    await docker.createVolume({ Name: name, Driver: like.driver, DriverOpts: like.options ?? {}, Labels: { ...like.labels, ...extra } });
  } catch (err) {
    throw toDockerError(err);
  }
}

export async function removeVolume(docker: Docker, name: string) {
  try {
    await docker.getVolume(name).remove({ force: true } as never);
  } catch {
    // Already gone.
  }
}

/** Unpacks the archive into the volume (mounted where the archive's top directory says), checking its sha256 on the way. */
export async function unpackInto(ctx: RunContext, target: BackupTarget, m: Manifest, volume: string): Promise<void> {
  const decrypt = decryptStages(m, ctx.backups.settings.ageKeys);
  const source = await target.read(`${m.volume}/${m.file}`);
  const meter = new Meter();
  const plain = new PassThrough({ highWaterMark: 256 * 1024 });
  await withVolumeContainer(ctx.docker, [{ volume, at: m.root }], ctx.jobId, async (c) => {
    // The decompressor (a `zstd` child) is made where the pipeline owns it, so a failure cannot leave one.
    await Promise.all([pipeline([source, meter, ...decrypt, ...decompressStages(m.compression), plain], { signal: ctx.signal }), writeVolume(c, plain, ctx.signal)]);
  });
  if (meter.bytes !== m.size || meter.digest() !== m.sha256) throw new DockerError(`backup ${m.id} changed while it was being restored (sha256 differs)`, 1);
}

/** True when the volume holds nothing but its top directory. */
export async function isEmptyVolume(ctx: RunContext, volume: string): Promise<boolean> {
  return withVolumeContainer(ctx.docker, [{ volume, at: 'v', readOnly: true }], ctx.jobId, async (c) => {
    const source = await readVolume(c, 'v', ctx.signal);
    const scanner = new TarScanner();
    return new Promise<boolean>((resolve, reject) => {
      let done = false;
      const end = (v: boolean) => {
        if (done) return;
        done = true;
        source.destroy();
        resolve(v);
      };
      scanner.on('data', () => {
        if (scanner.entries > 1) end(false);
      });
      scanner.on('end', () => end(scanner.entries <= 1));
      scanner.on('error', (e) => (done ? undefined : reject(e)));
      source.on('error', (e) => (done ? undefined : reject(toDockerError(e))));
      source.pipe(scanner);
    });
  });
}

/** Deletes everything in a volume, with a short-lived container of the restore image (`find … -exec rm -rf`, no shell). */
async function emptyVolume(ctx: RunContext, volume: string, image: string) {
  let c: Docker.Container;
  try {
    c = await ctx.docker.createContainer({
      Image: image,
      Cmd: ['find', '/v', '-mindepth', '1', '-maxdepth', '1', '-exec', 'rm', '-rf', '{}', ';'],
      User: '0',
      Labels: { [HELPER_LABEL]: 'empty', 'dockops.job': ctx.jobId },
      NetworkDisabled: true,
      HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: volume, Target: '/v' }] },
    } as unknown as Docker.ContainerCreateOptions);
  } catch (err) {
    throw toDockerError(err);
  }
  try {
    await c.start();
    const res = (await c.wait()) as { StatusCode: number };
    if (res.StatusCode !== 0) {
      const logs = demuxBuffer((await c.logs({ stdout: true, stderr: true })) as unknown as Buffer).map((f) => f.data.toString('utf8')).join('');
      throw new DockerError(`could not empty volume ${volume} with ${image} (find exited with ${res.StatusCode}): ${logs.trim().slice(0, 300)}`, 1);
    }
  } catch (err) {
    if (err instanceof DockerError) throw err;
    throw toDockerError(err);
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

/** Copies one volume's content over another's (both mounted as the archive's top directory). */
async function copyVolume(ctx: RunContext, from: string, to: string, root: string) {
  await withVolumeContainer(ctx.docker, [{ volume: from, at: root, readOnly: true }], ctx.jobId, (src) =>
    withVolumeContainer(ctx.docker, [{ volume: to, at: root }], ctx.jobId, async (dst) => {
      const stream: Readable = await readVolume(src, root, ctx.signal);
      await writeVolume(dst, stream, ctx.signal);
    }),
  );
}

export interface RestoreOptions {
  /** The volume to restore over (defaults to the backup's own). */
  volume: string;
  /** Restore beside it, into a new volume. */
  into?: string;
  force: boolean;
  restoreImage: string;
}

export interface RestoreResult {
  volume: string;
  created: boolean;
  safety?: Manifest;
  stopped: string[];
}

/**
 * Restores a backup so that nothing can get worse: the archive's sha256 first; then it is unpacked
 * into a fresh volume; only then is the target's current content backed up (a safety backup), the
 * containers using it stopped, its content replaced and the containers started again. A failure
 * while replacing puts the safety backup back.
 */
export async function restoreBackup(ctx: RunContext, target: BackupTarget, m: Manifest, opts: RestoreOptions): Promise<RestoreResult> {
  await checkArchive(target, m, ctx.signal);
  const dest = opts.into ?? opts.volume;
  const existing = await inspectVolume(ctx.docker, dest);
  if (!existing) {
    // A volume that is not there (lost, or --into NEW) is made fresh and filled; a failure removes it.
    await createVolume(ctx.docker, dest, m, { 'dockops.restored-from': m.id });
    try {
      await unpackInto(ctx, target, m, dest);
    } catch (err) {
      await removeVolume(ctx.docker, dest);
      throw err;
    }
    return { volume: dest, created: true, stopped: [] };
  }
  if (!(await isEmptyVolume(ctx, dest)) && !opts.force) {
    throw new UsageError(
      `volume ${dest} is not empty: restore beside it with --into NEW, or add --force to replace its content (its current content is backed up first)`,
      1,
    );
  }
  try {
    await ctx.docker.getImage(opts.restoreImage).inspect();
  } catch {
    throw new DockerError(`restoring over an existing volume needs the image ${opts.restoreImage} on host ${ctx.host} (to empty the volume); pull it there or set DOCKOPS_RESTORE_IMAGE — or restore with --into NEW`, 1);
  }
  const scratch = `dockops-restore-${randomBytes(4).toString('hex')}`;
  await createVolume(ctx.docker, scratch, { driver: 'local', labels: {}, options: null }, { 'dockops.scratch': 'restore' });
  try {
    ctx.output('stderr', `dockops: unpacking ${m.id} into ${scratch}\n`);
    await unpackInto(ctx, target, m, scratch);
    return await quiesced(ctx, dest, { stopAll: true, hooks: false }, async (stopped) => {
      ctx.output('stderr', `dockops: backing up the current content of ${dest} first\n`);
      const safety = await backupVolume(ctx, target, dest, { compression: m.compression, stop: false, tag: `before-restore-${m.id}` });
      ctx.output('stderr', `dockops: safety backup ${safety.id}; replacing the content of ${dest}\n`);
      try {
        await emptyVolume(ctx, dest, opts.restoreImage);
        await copyVolume(ctx, scratch, dest, m.root);
      } catch (err) {
        ctx.output('stderr', `dockops: restore failed (${(err as Error).message}); putting back ${safety.id}\n`);
        try {
          await emptyVolume(ctx, dest, opts.restoreImage);
          await unpackInto(ctx, target, safety, dest);
          ctx.output('stderr', `dockops: ${dest} is as it was before the restore\n`);
        } catch (again) {
          ctx.output('stderr', `dockops: could not put back ${safety.id} (${(again as Error).message}): restore it with: volume restore ${dest} --from ${safety.id} --force\n`);
        }
        throw err;
      }
      return { volume: dest, created: false, safety, stopped };
    });
  } finally {
    await removeVolume(ctx.docker, scratch);
  }
}
