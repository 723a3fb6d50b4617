import type Docker from 'dockerode';
import { Readable } from 'node:stream';
import { DockerError, notFoundOr, toDockerError } from '../errors.js';
import { createImageFrom } from '../docker/image-create.js';
import { readJsonMessages } from '../docker/streams.js';
import { rawGet, rawGetInto } from '../docker/raw-get.js';

/**
 * An image with nothing in it, made offline with the Engine's import: containers of it are created
 * only to reach a volume through the archive API and are never started, so no image has to be
 * pulled for a backup.
 */
export const HELPER_IMAGE = 'dockops-helper:empty';
/** Label on every container dockops creates for itself, so a sweep can find leftovers. */
export const HELPER_LABEL = 'dockops.helper';

/** An empty tar: two zero blocks. */
const EMPTY_TAR = Buffer.alloc(1024);

export async function ensureHelperImage(docker: Docker): Promise<void> {
  try {
    await docker.getImage(HELPER_IMAGE).inspect();
    return;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw toDockerError(err);
  }
  const [repo, tag] = HELPER_IMAGE.split(':');
  let res: Readable;
  try {
    res = await createImageFrom(docker, { fromSrc: '-', repo, tag, message: 'dockops helper (empty, never started)' }, Readable.from([EMPTY_TAR]));
  } catch (err) {
    throw toDockerError(err);
  }
  let failure: string | undefined;
  await readJsonMessages(res, (m) => {
    if (m.error) failure = m.errorDetail?.message ?? m.error;
  });
  if (failure) throw new DockerError(`cannot make the helper image ${HELPER_IMAGE}: ${failure}`, 1);
}

export interface VolumeInfo {
  name: string;
  driver: string;
  labels: Record<string, string>;
  options: Record<string, string> | null;
}

export async function inspectVolume(docker: Docker, name: string): Promise<VolumeInfo | undefined> {
  try {
    const v = (await docker.getVolume(name).inspect()) as { Name: string; Driver: string; Labels: Record<string, string> | null; Options: Record<string, string> | null };
    return { name: v.Name, driver: v.Driver, labels: v.Labels ?? {}, options: v.Options };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw toDockerError(err);
  }
}

/** A volume that must exist: docker's wording when it does not. */
export async function requireVolume(docker: Docker, name: string): Promise<VolumeInfo> {
  const v = await inspectVolume(docker, name);
  if (!v) throw new DockerError(`Error: No such volume: ${name}`, 1, 404);
  return v;
}

export interface VolumeUser {
  id: string;
  name: string;
  running: boolean;
  labels: Record<string, string>;
}

/** Containers (running or not) that mount the volume; dockops's own helpers left out. */
export async function volumeUsers(docker: Docker, volume: string): Promise<VolumeUser[]> {
  const list = await docker.listContainers({ all: true, filters: { volume: [volume] } }).catch((err) => {
    throw toDockerError(err);
  });
  return list
    .filter((c) => !(c.Labels ?? {})[HELPER_LABEL])
    .map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ''), running: c.State === 'running', labels: c.Labels ?? {} }));
}

/** The named volumes a container mounts, in its mount order, with where it mounts them. */
export async function containerVolumes(docker: Docker, container: string): Promise<{ name: string; destination: string }[]> {
  let info: { Mounts?: { Type: string; Name?: string; Destination: string }[] };
  try {
    info = (await docker.getContainer(container).inspect()) as typeof info;
  } catch (err) {
    throw notFoundOr(err, 'container', container);
  }
  return (info.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => ({ name: m.Name!, destination: m.Destination }));
}

/**
 * Runs `fn` with a created, never started container that mounts each volume at `/<mountAs>`; the
 * container is removed afterwards whatever happens (so no orphan is left).
 */
export async function withVolumeContainer<T>(
  docker: Docker,
  mounts: { volume: string; at: string; readOnly?: boolean }[],
  jobId: string,
  fn: (c: Docker.Container) => Promise<T>,
): Promise<T> {
  await ensureHelperImage(docker);
  let c: Docker.Container;
  try {
    c = await docker.createContainer({
      Image: HELPER_IMAGE,
      Cmd: ['/dockops-never-started'],
      Labels: { [HELPER_LABEL]: 'volume', 'dockops.job': jobId },
      NetworkDisabled: true,
      HostConfig: {
        NetworkMode: 'none',
        Mounts: mounts.map((m) => ({ Type: 'volume', Source: m.volume, Target: `/${m.at}`, ReadOnly: m.readOnly ?? false, VolumeOptions: { NoCopy: true } })),
      },
    } as unknown as Docker.ContainerCreateOptions);
  } catch (err) {
    throw toDockerError(err);
  }
  try {
    return await fn(c);
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * Removes the helper containers an earlier attempt of the job left behind (its worker was killed
 * before it could remove them), so a retried job leaves no orphan.
 */
export async function removeLeftoverHelpers(docker: Docker, jobId: string): Promise<number> {
  const left = await docker.listContainers({ all: true, filters: { label: [HELPER_LABEL, `dockops.job=${jobId}`] } }).catch(() => []);
  for (const c of left) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  return left.length;
}

/** The Engine API path of the archive of `/at` in container `c`. */
const archivePath = (c: Docker.Container, at: string) => `/containers/${encodeURIComponent(c.id)}/archive?path=${encodeURIComponent(`/${at}`)}`;

/** The volume's content as a tar stream whose top directory is `at`. */
export async function readVolume(c: Docker.Container, at: string, signal: AbortSignal): Promise<Readable> {
  try {
    const raw = rawGet(c, archivePath(c, at), signal);
    if (raw) return await raw;
    return (await c.getArchive({ path: `/${at}`, abortSignal: signal } as never)) as unknown as Readable;
  } catch (err) {
    throw toDockerError(err);
  }
}

/**
 * The volume's archive handed to `consume` a socket read at a time, as views of one reused buffer
 * (see rawGetInto): no stream, no copy. Undefined when the engine is not reached by a plain socket.
 */
export function readVolumeInto(c: Docker.Container, at: string, signal: AbortSignal, consume: (views: Buffer[]) => void | Promise<void>): Promise<void> | undefined {
  const read = rawGetInto(c, archivePath(c, at), signal, consume);
  return read?.catch((err: unknown) => {
    throw toDockerError(err);
  });
}

/** Unpacks a tar stream (whose top directory is `at`) into the volume mounted at `/at`. */
export async function writeVolume(c: Docker.Container, tarStream: Readable, signal: AbortSignal): Promise<void> {
  try {
    const res = (await c.putArchive(tarStream as never, { path: '/', abortSignal: signal } as never)) as unknown;
    if (res && typeof (res as Readable).resume === 'function') {
      for await (const _ of res as Readable) void _;
    }
  } catch (err) {
    throw toDockerError(err);
  }
}
