import type { Job } from 'bullmq';
import type { JobData } from '../jobs/queue.js';
import { JobResult } from '../jobs/types.js';
import type { AutobuildSpec } from '../commands/builds/autobuild.js';
import type { Superseded } from './records.js';
import type { RedeployOutcome } from './redeploy.js';

/** A build's state as people say it. */
export type BuildState = 'queued' | 'waiting' | 'building' | 'pushing' | 'redeploying' | 'pushed' | 'built' | 'failed' | 'cancelled' | 'superseded';

/** One build, whatever door shows it (builds ls, the Slack build message). */
export interface BuildView {
  id: string;
  host: string;
  repository: string;
  sourceref: string;
  sha: string;
  tags: string[];
  state: BuildState;
  /** Why it failed, was cancelled or superseded (by which commit). */
  reason?: string;
  supersededBy?: string;
  digest?: string;
  /** Build step k of n, while building. */
  step?: { step: number; of: number };
  /** Which tag is being pushed (1-based) while pushing. */
  pushing?: { image: string; index: number; of: number };
  /** What it waits for while waiting: the build of the same repository, or a free place. */
  waitingFor?: string;
  redeploy?: RedeployOutcome;
  exitCode?: number;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
}

/** The view of a build from its job (and its superseded record, if a newer push replaced it). */
export async function buildView(job: Job, superseded?: Superseded): Promise<BuildView | undefined> {
  const data = job.data as JobData;
  if (data.spec?.kind !== 'autobuild') return undefined;
  const spec = data.spec as AutobuildSpec;
  const state = await job.getState();
  const parsed = job.returnvalue ? JobResult.safeParse(job.returnvalue) : undefined;
  const result = parsed?.success ? parsed.data : undefined;
  const rdata = (result?.data ?? {}) as { digest?: string; redeploy?: RedeployOutcome };
  const p = (job.progress ?? {}) as { action?: string; phase?: string; step?: number; of?: number; behind?: string; running?: number; limit?: number; image?: string; container?: string };
  const v: BuildView = {
    id: job.id as string,
    host: data.host,
    repository: spec.repository,
    sourceref: spec.sourceref,
    sha: spec.sha,
    tags: spec.tags,
    state: 'queued',
    createdAt: job.timestamp,
    startedAt: job.processedOn ?? undefined,
    finishedAt: job.finishedOn ?? undefined,
    digest: rdata.digest,
    redeploy: rdata.redeploy,
    exitCode: result?.exitCode,
  };
  if (state === 'completed') {
    v.state = result?.exitCode === 0 ? (spec.push ? 'pushed' : 'built') : 'failed';
    if (v.state === 'failed') {
      const said = (result?.stderr ?? '').trim().split('\n').pop();
      v.reason = rdata.redeploy && !rdata.redeploy.ok ? 'the new image was rolled back' : said || `exit ${result?.exitCode}`;
    }
  } else if (state === 'failed') {
    const reason = job.failedReason ?? '';
    const sup = /^cancelled: superseded by ([0-9a-f]+)/.exec(reason);
    v.state = sup ? 'superseded' : reason.startsWith('cancelled') ? 'cancelled' : 'failed';
    if (sup) v.supersededBy = sup[1];
    v.reason = reason;
  } else if (state === 'active') {
    v.state = p.action === 'push' ? 'pushing' : p.action === 'redeploy' ? 'redeploying' : p.phase === 'waiting' ? 'waiting' : 'building';
    if (p.action === 'build' && p.step && p.of) v.step = { step: p.step, of: p.of };
    if (p.action === 'push' && p.image) {
      const i = spec.tags.findIndex((t) => t === p.image || t.endsWith(`/${p.image}`) || p.image!.endsWith(t));
      v.pushing = { image: p.image, index: i >= 0 ? i + 1 : 1, of: spec.tags.length };
    }
  } else if (state === 'delayed') {
    v.state = 'waiting';
  }
  if (v.state === 'waiting' && p.phase === 'waiting') {
    v.waitingFor = p.behind ? `the build of ${spec.repository} in job ${p.behind}` : `a free build place (${p.running ?? '?'} of ${p.limit ?? '?'} running)`;
  }
  if (superseded && v.state !== 'pushed' && v.state !== 'built') {
    v.state = 'superseded';
    v.supersededBy = superseded.by;
  }
  return v;
}

/** The view of a build whose job is gone because a newer push removed it from the queue. */
export function removedBuildView(id: string, s: Superseded): BuildView {
  return {
    id,
    host: id.split('.')[0],
    repository: s.repository,
    sourceref: s.sourceref,
    sha: s.sha,
    tags: s.tags,
    state: 'superseded',
    supersededBy: s.by,
    reason: `superseded by ${s.by} (job ${s.byJob}) while queued`,
    createdAt: s.at,
    finishedAt: s.at,
  };
}
