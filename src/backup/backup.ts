import { createHash } from 'node:crypto';
import type { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { DockerError, DockopsError, toDockerError } from '../errors.js';
import type { RunContext } from '../jobs/types.js';
import { tokenize } from '../commands/tokenize.js';
import { followExec } from '../docker/exec.js';
import { humanSize } from '../render/units.js';
import { VERSION } from '../version.js';
import { Meter } from './meter.js';
import { compressStages, EXTENSION, type Compression } from './compress.js';
import { AGE_EXTENSION, encryptStages } from './age.js';
import { TarScanner } from './tarscan.js';
import { Manifest, type BackupTarget } from './target.js';
import { DirectFileStream } from '../ops/durable.js';
import { readVolume, readVolumeInto, removeLeftoverHelpers, requireVolume, volumeUsers, withVolumeContainer, type VolumeUser } from './volumes.js';

/** Labels a container can carry to take part in backups of its volumes. */
export const LABEL_STOP = 'dockops.backup.stop';
export const LABEL_PRE = 'dockops.backup.pre';
export const LABEL_POST = 'dockops.backup.post';

/** Unfinished writes older than this are a dead job's and are removed. */
export const STALE_PARTIAL_MS = 15 * 60_000;

/**
 * A backup's ID: when its job was asked for, and a hash of the job and volume. A job taken up again
 * after its worker died gets the same ID, so it writes over its own unfinished archive.
 */
export function backupId(enqueuedAt: number, jobId: string, volume: string): string {
  const stamp = new Date(enqueuedAt).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${createHash('sha256').update(`${jobId}\0${volume}`).digest('hex').slice(0, 6)}`;
}

/** Reports bytes, rate and (from the volume's previous backup) an ETA about once a second. */
function progressTicker(ctx: RunContext, volume: string, phase: string, read: () => number, written: () => number, expected: number | undefined, stopped: string[]) {
  const started = Date.now();
  const tick = () => {
    const secs = (Date.now() - started) / 1000;
    const bytes = read();
    const rate = secs > 0 ? bytes / secs : 0;
    const eta = expected && rate > 0 && expected > bytes ? Math.round((expected - bytes) / rate) : undefined;
    ctx.progress({ phase, volume, bytes, written: written(), rate: Math.round(rate), total: expected, etaSeconds: eta, stopped });
  };
  const timer = setInterval(tick, 1000);
  timer.unref();
  return () => clearInterval(timer);
}

export interface BackupOptions {
  compression: Compression;
  level?: number;
  stop: boolean;
  tag?: string;
  container?: string;
}

/** Runs a label's command in a container with exec (words split as the command language does, no shell). */
async function hook(ctx: RunContext, c: VolumeUser, label: string, when: string) {
  const text = c.labels[label];
  if (!text) return;
  let argv: string[];
  try {
    argv = tokenize(text);
  } catch (err) {
    throw new DockerError(`${when} command of ${c.name} (label ${label}) cannot be read: ${(err as Error).message}`, 1);
  }
  if (!argv.length) return;
  ctx.output('stderr', `dockops: ${when}: exec in ${c.name}: ${argv.join(' ')}\n`);
  let exec: Docker.Exec;
  try {
    exec = await ctx.docker.getContainer(c.id).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, Tty: false } as Docker.ExecCreateOptions);
  } catch (err) {
    throw toDockerError(err);
  }
  const code = await followExec(exec, (s, t) => ctx.output('stderr', t), ctx.signal, ctx.log);
  if (code !== 0) throw new DockerError(`${when} command of ${c.name} (label ${label}) exited with ${code ?? 'no code (cancelled)'}`, 1);
}

/**
 * Puts right what an earlier attempt of this job left when its worker died: containers it stopped
 * are started again, and its helper containers removed.
 */
const recovered = new WeakSet<RunContext>();
async function recoverEarlierAttempt(ctx: RunContext) {
  if (ctx.attempt <= 1 || recovered.has(ctx)) return;
  recovered.add(ctx);
  const removed = await removeLeftoverHelpers(ctx.docker, ctx.jobId);
  if (removed) ctx.output('stderr', `dockops: removed ${removed} helper container(s) left by the attempt that died\n`);
  const prev = (ctx.previousProgress ?? {}) as { stopped?: unknown };
  for (const id of Array.isArray(prev.stopped) ? prev.stopped.filter((x): x is string => typeof x === 'string') : []) {
    try {
      const info = await ctx.docker.getContainer(id).inspect();
      if (!info.State.Running) {
        await ctx.docker.getContainer(id).start();
        ctx.output('stderr', `dockops: started ${info.Name.replace(/^\//, '')} again (stopped by the attempt that died)\n`);
      }
    } catch (err) {
      ctx.output('stderr', `dockops: could not start ${id.slice(0, 12)} again: ${toDockerError(err).message}\n`);
    }
  }
}

/**
 * Runs `fn` with the containers that must not write to the volume stopped (`--stop`, or the label
 * dockops.backup.stop=true), and the pre/post labels' commands run around it. Stopped containers are
 * started again whatever happens.
 */
export async function quiesced<T>(ctx: RunContext, volume: string, how: { stopAll: boolean; hooks: boolean }, fn: (stopped: string[], stoppedIds: string[]) => Promise<T>): Promise<T> {
  await recoverEarlierAttempt(ctx);
  const users = (await volumeUsers(ctx.docker, volume)).filter((u) => u.running);
  const toStop = users.filter((u) => how.stopAll || u.labels[LABEL_STOP] === 'true');
  const hooked = how.hooks ? users.filter((x) => x.labels[LABEL_PRE] || x.labels[LABEL_POST]) : [];
  const stopped: VolumeUser[] = [];
  try {
    for (const u of hooked) await hook(ctx, u, LABEL_PRE, 'pre-backup');
    for (const u of toStop) {
      ctx.output('stderr', `dockops: stopping ${u.name} for the archive step\n`);
      try {
        await ctx.docker.getContainer(u.id).stop({ t: 10 });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 304) throw toDockerError(err);
      }
      stopped.push(u);
      // Kept in the job's progress: if this worker dies, the next attempt starts them again.
      ctx.progress({ phase: 'stopped', volume, stopped: stopped.map((x) => x.id) });
    }
    return await fn(stopped.map((u) => u.name), stopped.map((u) => u.id));
  } finally {
    const errors: string[] = [];
    for (const u of stopped) {
      try {
        await ctx.docker.getContainer(u.id).start();
        ctx.output('stderr', `dockops: started ${u.name} again\n`);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 304) errors.push(`could not start ${u.name} again: ${toDockerError(err).message}`);
      }
    }
    for (const u of hooked) {
      try {
        await hook(ctx, u, LABEL_POST, 'post-backup');
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    // Every failure to put things back is said, whatever happened before.
    for (const e of errors) ctx.output('stderr', `dockops: ${e}\n`);
  }
}

/**
 * Streams one volume to the target: the Engine's archive API on a never-started container, counted,
 * compressed and hashed on the way, written under a temporary name, then the manifest. Nothing is
 * kept in memory or on temporary disk; a failure leaves no valid-looking backup.
 */
export async function backupVolume(ctx: RunContext, target: BackupTarget, volume: string, opts: BackupOptions): Promise<Manifest> {
  const info = await requireVolume(ctx.docker, volume);
  // A dead job's unfinished archives go first.
  await target.sweep(ctx.now(), STALE_PARTIAL_MS).catch((err) => ctx.log.warn({ err: (err as Error).message }, 'backup sweep failed'));
  const previous = (await target.manifests(volume)).at(-1);
  const id = backupId(ctx.enqueuedAt, ctx.jobId, volume);
  const file = `${id}${EXTENSION[opts.compression]}${target.age ? AGE_EXTENSION : ''}`;
  return quiesced(ctx, volume, { stopAll: opts.stop, hooks: true }, async (stopped, stoppedIds) => {
    const createdAt = new Date(ctx.now()).toISOString();
    const started = Date.now();
    // Encrypted after compression and before the meter: size and sha256 are of the stored bytes.
    // Stages that would pass bytes on untouched are left out, and an archive stored as read is
    // hashed by its scanner (bench/backup: `--compress none` is bound by the CPU).
    const asRead = opts.compression === 'none' && !target.age;
    const scanner = new TarScanner({ highWaterMark: 4 << 20, hash: asRead });
    const meter: { bytes: number; digest(): string } = asRead ? scanner : new Meter();
    const pending = await target.create(`${volume}/${file}`);
    const stopTicker = progressTicker(ctx, volume, 'backup', () => scanner.bytes, () => meter.bytes, previous?.rawSize, stoppedIds);
    try {
      await withVolumeContainer(ctx.docker, [{ volume, at: volume, readOnly: true }], ctx.jobId, async (c) => {
        // Stored as read, to a file: each socket read is scanned, hashed and written where it lies,
        // with no stream between (bench/backup: the pipeline's copies and stages cost the worker ~2 s
        // of CPU a GiB, on two cores it shares with the engine's tar).
        const file = asRead && pending.stream instanceof DirectFileStream ? pending.stream : undefined;
        if (file) {
          await file.opened;
          const read = readVolumeInto(c, volume, ctx.signal, (views) => {
            for (const v of views) scanner.scan(v);
            return file.writeNow(views);
          });
          if (read) {
            await read;
            file.end();
            return;
          }
        }
        const source: Readable = await readVolume(c, volume, ctx.signal);
        // Made here, where the pipeline owns them: a `zstd` child made earlier would outlive a failure.
        const stages: Duplex[] = [...compressStages(opts.compression, opts.level), ...encryptStages(target.age)];
        if (meter instanceof Meter) stages.push(meter);
        await pipeline([source, scanner, ...stages, pending.stream], { signal: ctx.signal });
      });
      if (!scanner.ended) throw new DockerError(`the archive of volume ${volume} ended early (${scanner.bytes} bytes read): nothing was kept`, 1);
      await pending.commit();
    } catch (err) {
      await pending.abort();
      if (err instanceof DockopsError || ctx.signal.aborted) throw err;
      throw new DockerError(`backup of volume ${volume} failed: ${(err as Error).message}; nothing was kept`, 1);
    } finally {
      stopTicker();
    }
    const m: Manifest = Manifest.parse({
      id,
      volume,
      host: ctx.host,
      createdAt,
      file,
      size: meter.bytes,
      sha256: meter.digest(),
      rawSize: scanner.bytes,
      entries: scanner.entries,
      compression: opts.compression,
      encryption: target.age ? 'age' : 'none',
      ageRecipients: target.age ? [...target.age.recipients] : undefined,
      root: volume,
      driver: info.driver,
      labels: info.labels,
      options: info.options,
      durationMs: Date.now() - started,
      tag: opts.tag,
      container: opts.container,
      stopped,
      jobId: ctx.jobId,
      dockopsVersion: VERSION,
    });
    try {
      await target.putManifest(m);
    } catch (err) {
      await target.remove(m).catch(() => undefined);
      throw new DockerError(`backup of volume ${volume}: its manifest could not be written (${(err as Error).message}); nothing was kept`, 1);
    }
    return m;
  });
}

/** One line for people: what was backed up, how big, how fast, where. */
export function backupLine(m: Manifest, target: BackupTarget): string {
  const secs = Math.max(m.durationMs, 1) / 1000;
  return `${m.id}  ${m.volume}: ${m.entries} entries, ${humanSize(m.rawSize)} → ${humanSize(m.size)} (${m.compression}${m.encryption === 'age' ? '+age' : ''}) in ${secs.toFixed(1)}s (${humanSize(m.rawSize / secs)}/s) to ${target.name}:${m.volume}/${m.file}\n`;
}
