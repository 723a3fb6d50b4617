import { z } from 'zod';
import { UnrecoverableError } from 'bullmq';
import { defineCommand } from '../define.js';
import { imageBuild } from '../image/build.js';
import { imagePull } from '../image/pull.js';
import { imagePush } from '../image/push.js';
import { DockerError, UsageError } from '../../errors.js';
import type { JobResult, RunContext } from '../../jobs/types.js';
import { acquireBuild, gateKeys, releaseBuild, renewBuild } from '../../builds/gate.js';
import { readSuperseded } from '../../builds/records.js';
import { recoverRedeploy, redeploy } from '../../builds/redeploy.js';
import { durationString } from '../../render/go-value.js';

/** A build that a GitHub push started: build the exact commit, tag it, push every tag. */
export const AutobuildSpec = z.object({
  kind: z.literal('autobuild'),
  repository: z.string(),
  sourceref: z.string(),
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  /** git URL of the commit and context dir (`…#<sha>:dir`). */
  context: z.string(),
  dockerfile: z.string(),
  tags: z.array(z.string()).min(1),
  buildArgs: z.record(z.string(), z.string()),
  labels: z.record(z.string(), z.string()),
  target: z.string().optional(),
  push: z.boolean(),
  /** Recreate the containers labelled dockops.redeploy=<one of the tags> afterwards. */
  redeploy: z.boolean().default(false),
  /** Which rule of the repository made it (0-based): a newer push supersedes the same rule's build. */
  rule: z.number().int().min(0).default(0),
  /** The rule's `timeout` in ms; without it, the worker's DOCKOPS_BUILD_TIMEOUT_MS. */
  timeoutMs: z.number().int().positive().optional(),
});
export type AutobuildSpec = z.infer<typeof AutobuildSpec>;

/** A build's lease on its repository's lock; renewed at a third of it while the build runs. */
const LEASE_MS = 30_000;
/**
 * A build that must wait looks again this often. The build it waits for promotes it as soon as it
 * ends, so this only matters when that one's worker died (its lease lapses within LEASE_MS).
 */
const WAIT_POLL_MS = 5_000;

/** Waits its turn: one build per repository, at most `concurrency` per host. */
async function admit(spec: AutobuildSpec, ctx: RunContext) {
  const superseded = await readSuperseded(ctx.redis, ctx.prefix, ctx.jobId);
  if (superseded) {
    ctx.output('stderr', `dockops: superseded by ${superseded.by} (job ${superseded.byJob}) before it started\n`);
    throw new UnrecoverableError(`cancelled: superseded by ${superseded.by}`);
  }
  const keys = gateKeys(ctx.prefix, ctx.host, spec.repository);
  const a = await acquireBuild(ctx.redis, keys, ctx.jobId, LEASE_MS, ctx.builds.concurrency);
  if (!a.ok) {
    const why = a.reason === 'repo' ? `the build of ${spec.repository} in job ${a.holder}` : `one of the ${a.running} builds running on ${ctx.host} (DOCKOPS_BUILD_CONCURRENCY=${ctx.builds.concurrency})`;
    if (ctx.attempt <= 1) ctx.output('stderr', `dockops: queued: waiting for ${why} to finish\n`);
    ctx.progress({ action: 'build', phase: 'waiting', ...(a.reason === 'repo' ? { behind: a.holder } : { running: a.running, limit: ctx.builds.concurrency }) });
    await ctx.defer(Date.now() + WAIT_POLL_MS);
  }
  const renew = setInterval(() => {
    renewBuild(ctx.redis, keys, ctx.jobId, LEASE_MS).catch((err) => ctx.log.warn({ err: (err as Error).message }, 'build lease renewal failed'));
  }, LEASE_MS / 3);
  return async () => {
    clearInterval(renew);
    const waiting = await releaseBuild(ctx.redis, keys, ctx.jobId).catch(() => [] as string[]);
    // Who waited goes now rather than at its next look.
    for (const id of waiting) void ctx.jobs.get(id).then((j) => j?.promote()).catch(() => undefined);
  };
}

/**
 * The rule's previous image (its first tag, as the last build pushed it), made available to the
 * engine as a build cache: taken from the engine if it is there, else pulled quietly from the
 * registry. The first build of a rule has none, which is no error.
 */
async function previousImage(spec: AutobuildSpec, ctx: RunContext): Promise<string[]> {
  const ref = spec.tags[0];
  if (!ref) return [];
  try {
    await ctx.docker.getImage(ref).inspect();
    return [ref];
  } catch {
    if (!spec.push) return [];
  }
  const pulled = await imagePull.run({ kind: 'image.pull', image: ref, allTags: false, quiet: true }, ctx).catch(() => undefined);
  if (pulled?.exitCode === 0) {
    ctx.output('stdout', `Using ${ref} (the previous build of this rule) as build cache\n`);
    return [ref];
  }
  return [];
}

async function buildAndPush(spec: AutobuildSpec, ctx: RunContext): Promise<JobResult> {
  const cacheFrom = await previousImage(spec, ctx);
  const built = await imageBuild.run(
    {
      kind: 'image.build',
      context: spec.context,
      tags: spec.tags,
      file: spec.dockerfile,
      buildArgs: spec.buildArgs,
      labels: spec.labels,
      noCache: false,
      pull: false,
      target: spec.target,
      quiet: false,
      // Unattended builds leave no container of a failed step behind.
      forceRm: true,
      cacheFrom,
    },
    ctx,
  );
  if (built.exitCode !== 0) return built;
  const pushed: Array<{ image?: string; digest?: string }> = [];
  if (spec.push) {
    for (const tag of spec.tags) {
      const r = await imagePush.run({ kind: 'image.push', image: tag, allTags: false, quiet: false }, ctx);
      if (r.stdout) ctx.output('stdout', r.stdout);
      if (r.exitCode !== 0) return { ...r, stdout: '', streamed: true };
      pushed.push(r.data as { image?: string; digest?: string });
    }
  }
  const image = (built.data as { image?: string } | undefined)?.image;
  const data: Record<string, unknown> = { built: built.data, image, tags: spec.tags, pushed, digest: pushed[0]?.digest };
  if (spec.redeploy) {
    const r = await redeploy(ctx, spec.tags);
    data.redeploy = r;
    if (!r.ok) return { exitCode: 1, stdout: '', stderr: '', streamed: true, truncated: false, data };
  }
  return { exitCode: 0, stdout: '', stderr: '', streamed: true, truncated: false, data };
}

/**
 * Says when this build runs again because the worker of an earlier attempt died with it (BullMQ
 * handed the job to another worker), and how far that attempt had got by its last progress. The
 * build starts over; a push it was in the middle of says so itself (image push). Attempts that
 * only waited their turn (deferred) are no such case.
 */
function sayRetake(ctx: RunContext) {
  if (ctx.attempt <= 1) return;
  const prev = ctx.previousProgress as { action?: unknown; phase?: unknown; image?: unknown } | undefined;
  if (!prev || typeof prev !== 'object' || !prev.action || (prev.action === 'build' && prev.phase === 'waiting')) return;
  const far = prev.action === 'push' && typeof prev.image === 'string' ? `pushing ${prev.image}` : 'building';
  ctx.output('stderr', `dockops: building again: the attempt that died had got as far as ${far}\n`);
}

/** Not a docker verb: made by the GitHub door only (typing it gives usage help). */
export const autobuild = defineCommand({
  path: ['builds', 'run'],
  usage: '(started by GitHub pushes; see `builds preview`)',
  summary: 'Build, tag and push an image for a GitHub push (internal)',
  args: { min: 0, max: 0 },
  flags: [],
  spec: AutobuildSpec,
  toSpec() {
    throw new UsageError('builds run is started by GitHub pushes through POST /webhooks/github; it cannot be typed', 1);
  },
  async run(spec, ctx): Promise<JobResult> {
    const release = await admit(spec, ctx);
    sayRetake(ctx);
    // A redeploy that died midway left the service's old container parked and stopped: it runs
    // again before anything else (this build redeploys once it has pushed).
    if (spec.redeploy) await recoverRedeploy(ctx, spec.tags).catch((err) => ctx.log.warn({ err: (err as Error).message }, 'redeploy recovery failed'));
    // The clock starts once the build has its turn: waiting for the repository is not counted.
    const limitMs = spec.timeoutMs ?? ctx.builds.timeoutMs;
    const limit = new AbortController();
    const timer = setTimeout(() => limit.abort(new Error('timed out')), limitMs);
    // The engine's build, push and redeploy all end on either signal (closing the build's connection
    // makes the engine stop it and, with --force-rm, remove the step's container).
    const inner: RunContext = { ...ctx, signal: AbortSignal.any([ctx.signal, limit.signal]) };
    const timedOut = () => new DockerError(`dockops: build timed out after ${durationString(BigInt(limitMs) * 1_000_000n)} (the rule's timeout in jobs/*.yml, else DOCKOPS_BUILD_TIMEOUT_MS); nothing was pushed after that`, 1);
    try {
      ctx.progress({ action: 'build', phase: 'started' });
      const r = await buildAndPush(spec, inner);
      if (limit.signal.aborted && !ctx.signal.aborted) throw timedOut();
      return r;
    } catch (err) {
      // Said in the log, where `builds logs` and the Slack message read it.
      if (ctx.signal.aborted) ctx.output('stderr', `dockops: build cancelled: ${String(ctx.signal.reason ?? 'by request')}\n`);
      else if (limit.signal.aborted) throw timedOut();
      throw err;
    } finally {
      clearTimeout(timer);
      await release();
    }
  },
});
