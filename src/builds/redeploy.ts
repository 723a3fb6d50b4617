import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import type { RunContext } from '../jobs/types.js';
import { fullString, parseRef, withDefaultTag } from '../docker/refs.js';
import { daemonMessage } from '../errors.js';
import { demuxBuffer } from '../docker/streams.js';

/** The label that ties a container to the image it follows. */
export const REDEPLOY_LABEL = 'dockops.redeploy';

/** How often a new container is looked at while it proves itself. */
const WATCH_EVERY_MS = 250;

export interface RedeployedContainer {
  name: string;
  from: string;
  to?: string;
  image: string;
  outcome: 'redeployed' | 'rolled back' | 'unchanged';
  reason?: string;
}

export interface RedeployOutcome {
  ok: boolean;
  containers: RedeployedContainer[];
}

/** `localhost:5000/app` and `localhost:5000/app:latest` are one reference, as docker reads them. */
export function normalRef(ref: string): string {
  return fullString(withDefaultTag(parseRef(ref)));
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * The container's own configuration: what was given when it was created, without what it took
 * from its old image (ENV, CMD, labels, …), so the new image's defaults apply where the person
 * gave none, as `docker run` of the new image with the same options would.
 */
export function ownConfig(c: Docker.ContainerInspectInfo, img: Docker.ImageInspectInfo['Config'] | undefined): Record<string, unknown> {
  const cfg = c.Config as Docker.ContainerInspectInfo['Config'] & Record<string, unknown>;
  const base = (img ?? {}) as Record<string, unknown> & { Env?: string[]; Labels?: Record<string, string>; ExposedPorts?: Record<string, unknown>; Volumes?: Record<string, unknown> };
  const out: Record<string, unknown> = {};
  // A hostname docker gave (the short ID) is not kept: the new container gets its own.
  if (cfg.Hostname && cfg.Hostname !== c.Id.slice(0, 12)) out.Hostname = cfg.Hostname;
  for (const k of ['Domainname', 'Tty', 'OpenStdin', 'StdinOnce', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'MacAddress', 'StopTimeout', 'NetworkDisabled']) {
    if (cfg[k] !== undefined && cfg[k] !== '' && cfg[k] !== null) out[k] = cfg[k];
  }
  for (const k of ['User', 'WorkingDir', 'Cmd', 'Entrypoint', 'StopSignal', 'Healthcheck', 'Shell']) {
    if (cfg[k] !== undefined && cfg[k] !== null && cfg[k] !== '' && !same(cfg[k], base[k])) out[k] = cfg[k];
  }
  const imageEnv = new Set(base.Env ?? []);
  out.Env = (cfg.Env ?? []).filter((e) => !imageEnv.has(e));
  out.Labels = Object.fromEntries(Object.entries(cfg.Labels ?? {}).filter(([k, v]) => k === REDEPLOY_LABEL || base.Labels?.[k] !== v));
  const ports = Object.keys(cfg.ExposedPorts ?? {}).filter((p) => !(p in (base.ExposedPorts ?? {})));
  if (ports.length) out.ExposedPorts = Object.fromEntries(ports.map((p) => [p, {}]));
  const vols = Object.keys((cfg.Volumes as Record<string, unknown> | null) ?? {}).filter((v) => !(v in (base.Volumes ?? {})));
  if (vols.length) out.Volumes = Object.fromEntries(vols.map((v) => [v, {}]));
  return out;
}

/** The host configuration as it was, plus the anonymous volumes, so the data stays with the service. */
export function ownHostConfig(c: Docker.ContainerInspectInfo): Record<string, unknown> {
  const hc = { ...(c.HostConfig as Record<string, unknown>) };
  const binds = [...((hc.Binds as string[] | null) ?? [])];
  const taken = new Set([
    ...binds.map((b) => b.split(':')[1]),
    ...(((hc.Mounts as Array<{ Target: string }> | null) ?? []).map((m) => m.Target)),
  ]);
  for (const m of c.Mounts ?? []) {
    if (m.Type === 'volume' && m.Name && !taken.has(m.Destination)) binds.push(`${m.Name}:${m.Destination}${m.RW ? '' : ':ro'}`);
  }
  hc.Binds = binds;
  return hc;
}

/** Endpoint settings of each network the container is on, without what the engine made up. */
function endpoints(c: Docker.ContainerInspectInfo): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, n] of Object.entries(c.NetworkSettings.Networks ?? {})) {
    const e = n as unknown as { IPAMConfig?: unknown; Links?: string[] | null; Aliases?: string[] | null; DriverOpts?: unknown };
    const aliases = (e.Aliases ?? []).filter((a) => a !== c.Id.slice(0, 12));
    out[name] = { ...(e.IPAMConfig ? { IPAMConfig: e.IPAMConfig } : {}), ...(e.Links?.length ? { Links: e.Links } : {}), ...(aliases.length ? { Aliases: aliases } : {}), ...(e.DriverOpts ? { DriverOpts: e.DriverOpts } : {}) };
  }
  return out;
}

/** The last lines a container printed (for the report when it is rolled back). */
async function lastOutput(container: Docker.Container, lines: number): Promise<string> {
  try {
    const buf = (await container.logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    return demuxBuffer(buf).map((f) => f.data.toString()).join('');
  } catch {
    return '';
  }
}

/**
 * The code a container its restart policy keeps restarting exits with. The engine keeps it in
 * State.ExitCode while the container waits to restart and resets it to 0 once it runs again, so it
 * is read in a restarting moment (the policy's back-off makes them longer each time), for up to 3 s.
 * (The engine's `next-exit` wait, used before, could answer 0 when asked in the middle of a restart.)
 */
async function restartExitCode(container: Docker.Container, s: Docker.ContainerInspectInfo['State'], signal: AbortSignal): Promise<number | undefined> {
  const deadline = Date.now() + 3000;
  for (let state = s; ; ) {
    if (state.Restarting || !state.Running) return state.ExitCode;
    if (Date.now() >= deadline || signal.aborted) return undefined;
    await sleep(50, signal).catch(() => undefined);
    state = (await container.inspect()).State;
  }
}

/**
 * Watches a new container for `waitMs`: it must keep running (no exit, no restart) and, when it
 * has a health check, become healthy. Healthy ends the wait early; unhealthy, an exit, or still
 * "starting" when the time is up, fail it.
 */
async function proves(container: Docker.Container, waitMs: number, signal: AbortSignal): Promise<{ ok: true } | { ok: false; reason: string }> {
  const deadline = Date.now() + waitMs;
  const secs = `${Math.round(waitMs / 100) / 10}s`;
  for (;;) {
    const info = await container.inspect();
    const s = info.State as Docker.ContainerInspectInfo['State'] & { Health?: { Status: string; Log?: Array<{ Output?: string }> } };
    if (!s.Running || s.Restarting || info.RestartCount > 0) {
      // With a restart policy it may be running again: it exited all the same.
      const restarted = s.Running || s.Restarting;
      const code = restarted ? await restartExitCode(container, s, signal) : s.ExitCode;
      const again = restarted ? ' and was restarted by its restart policy' : '';
      return { ok: false, reason: `the new container exited with code ${code ?? 'unknown'} within ${secs}${again}` };
    }
    if (s.Health?.Status === 'healthy') return { ok: true };
    if (s.Health?.Status === 'unhealthy') return { ok: false, reason: `the new container's health check failed: ${(s.Health.Log?.at(-1)?.Output ?? '').trim().slice(0, 200)}` };
    if (signal.aborted) return { ok: false, reason: 'the build was cancelled' };
    if (Date.now() >= deadline) return s.Health ? { ok: false, reason: `the new container was not healthy within ${secs}` } : { ok: true };
    await sleep(Math.min(WATCH_EVERY_MS, Math.max(0, deadline - Date.now())), signal);
  }
}

/** Recreates one container from `image` with its configuration; rolls it back if the new one fails. */
async function recreate(ctx: RunContext, info: Docker.ContainerInspectInfo, image: string): Promise<RedeployedContainer> {
  const name = info.Name.replace(/^\//, '');
  const out = (t: string) => ctx.output('stdout', t);
  const oldImage = await ctx.docker.getImage(info.Image).inspect().catch(() => undefined);
  const networks = endpoints(info);
  const mode = String(info.HostConfig.NetworkMode ?? 'default');
  const primary = mode === 'default' ? 'bridge' : mode;
  const create = {
    ...ownConfig(info, oldImage?.Config),
    Image: image,
    name,
    HostConfig: ownHostConfig(info),
    // API 1.41 engines take one network at create time; the others are connected after.
    NetworkingConfig: networks[primary] ? { EndpointsConfig: { [primary]: networks[primary] } } : undefined,
  };
  const old = ctx.docker.getContainer(info.Id);
  const parked = `${name}-dockops-old-${randomBytes(3).toString('hex')}`;
  const wasRunning = info.State.Running;
  out(`Redeploying ${name} (${info.Id.slice(0, 12)}) from ${image}\n`);
  // The name and the ports go to the new container: the old one steps aside and stops.
  await old.rename({ name: parked });
  await old.stop({ t: (info.Config as { StopTimeout?: number }).StopTimeout ?? 10 }).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 304) throw err;
  });
  let created: Docker.Container | undefined;
  let reason: string;
  try {
    created = await ctx.docker.createContainer(create as Docker.ContainerCreateOptions);
    for (const [net, ep] of Object.entries(networks)) {
      if (net !== primary) await ctx.docker.getNetwork(net).connect({ Container: created.id, EndpointConfig: ep });
    }
    await created.start();
    const verdict = await proves(created, ctx.builds.redeployWaitMs, ctx.signal);
    if (verdict.ok) {
      await old.remove({ force: true, v: false });
      out(`${name}: the new container ${created.id.slice(0, 12)} is up; the old one is removed\n`);
      return { name, from: info.Id, to: created.id, image, outcome: 'redeployed' };
    }
    reason = verdict.reason;
  } catch (err) {
    reason = `Error response from daemon: ${daemonMessage(err)}`;
  }
  // Roll back: the new container goes, the old one gets its name back and runs again.
  const said = created ? (await lastOutput(created, 10)).trim() : '';
  if (created) await created.remove({ force: true, v: false }).catch(() => undefined);
  await old.rename({ name });
  if (wasRunning) await old.start();
  out(`${name}: ${reason}; rolled back to ${info.Id.slice(0, 12)} (image ${info.Image.replace(/^sha256:/, '').slice(0, 12)})\n`);
  if (said) out(`${name}: the new container's last output:\n${said}\n`);
  return { name, from: info.Id, to: created?.id, image, outcome: 'rolled back', reason };
}

/** The name a container is parked under while its replacement proves itself. */
const PARKED = /^\/(.+)-dockops-old-[0-9a-f]{6}$/;

/**
 * Puts back what a redeploy of these tags left half-done when its worker died: an old container
 * parked as `<name>-dockops-old-<hex>` gets its name back and runs again, after the new container the
 * dead attempt had made under that name (younger, following the same image) is removed. Called by a
 * build that holds its repository's lock, so no redeploy of these tags is under way: whatever is
 * parked for them was left by one that died. A container of another kind under the name is left alone.
 */
export async function recoverRedeploy(ctx: RunContext, tags: string[]): Promise<void> {
  const refs = new Set(tags.map(normalRef));
  const all = await ctx.docker.listContainers({ all: true, filters: JSON.stringify({ label: [REDEPLOY_LABEL] }) } as {});
  for (const c of all) {
    const m = PARKED.exec(c.Names[0] ?? '');
    const ref = normalRef(c.Labels[REDEPLOY_LABEL] ?? '');
    if (!m || !refs.has(ref)) continue;
    const [parked, name] = [c.Names[0]!.slice(1), m[1]!];
    const holder = all.find((x) => x.Names.includes(`/${name}`));
    if (holder && !(holder.Created >= c.Created && normalRef(holder.Labels[REDEPLOY_LABEL] ?? '') === ref)) {
      ctx.output('stderr', `dockops: ${parked} was left parked by a redeploy that died, but ${name} is another container: both left as they are\n`);
      continue;
    }
    try {
      if (holder) await ctx.docker.getContainer(holder.Id).remove({ force: true, v: false });
      const old = ctx.docker.getContainer(c.Id);
      await old.rename({ name });
      await old.start().catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 304) throw err;
      });
      ctx.output('stderr', `dockops: put ${name} back (parked as ${parked} by a redeploy that died${holder ? `; its new container ${holder.Id.slice(0, 12)} removed` : ''}) and started it\n`);
    } catch (err) {
      ctx.output('stderr', `dockops: could not put ${name} back from ${parked}: ${daemonMessage(err)}\n`);
    }
  }
}

/**
 * Recreates, one at a time, the running containers labelled dockops.redeploy=<ref> whose ref is
 * one of the pushed tags (a ref without a tag means :latest, as docker reads it). Stops at the
 * first container that is rolled back: the others keep the old image.
 */
export async function redeploy(ctx: RunContext, tags: string[]): Promise<RedeployOutcome> {
  const byRef = new Map(tags.map((t) => [normalRef(t), t]));
  const listed = await ctx.docker.listContainers({ filters: JSON.stringify({ label: [REDEPLOY_LABEL] }) } as {});
  const targets = listed
    .map((c) => ({ c, tag: byRef.get(normalRef(c.Labels[REDEPLOY_LABEL] ?? '')) }))
    .filter((t): t is { c: Docker.ContainerInfo; tag: string } => t.tag !== undefined)
    .sort((a, b) => (a.c.Names[0] ?? '').localeCompare(b.c.Names[0] ?? ''));
  const containers: RedeployedContainer[] = [];
  if (!targets.length) {
    ctx.output('stdout', `No running container is labelled ${REDEPLOY_LABEL}=${tags.join(' or ')}: nothing to redeploy\n`);
    return { ok: true, containers };
  }
  for (const { c, tag } of targets) {
    const image = await ctx.docker.getImage(tag).inspect();
    const info = await ctx.docker.getContainer(c.Id).inspect();
    ctx.progress({ action: 'redeploy', container: info.Name.replace(/^\//, ''), index: containers.length + 1, of: targets.length });
    if (info.Image === image.Id) {
      ctx.output('stdout', `${info.Name.replace(/^\//, '')} already runs ${tag} (${image.Id.slice(7, 19)})\n`);
      containers.push({ name: info.Name.replace(/^\//, ''), from: info.Id, image: tag, outcome: 'unchanged' });
      continue;
    }
    const r = await recreate(ctx, info, tag);
    containers.push(r);
    if (r.outcome === 'rolled back') return { ok: false, containers };
  }
  return { ok: true, containers };
}
