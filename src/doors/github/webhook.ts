import { z } from 'zod';
import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { JobQueues } from '../../jobs/queue.js';
import { recordBuild, supersedeBuild } from '../../builds/supersede.js';
import { matchPush, ruleTimeoutMs, type BuildRepo, type PushEvent } from '../../builds/rules.js';
import { AutobuildSpec } from '../../commands/builds/autobuild.js';
import { VERSION } from '../../version.js';

/** GitHub's cap on webhook payloads; anything larger is not from GitHub. */
export const MAX_PAYLOAD = 25 * 1024 * 1024;

export interface GithubDeps {
  secrets: string[];
  rules: BuildRepo[];
  jobs: JobQueues;
  redis: Redis;
  defaultHost: string;
  log: Logger;
  now?: () => number;
}

/** X-Hub-Signature-256 over the exact bytes, in constant time, against each configured secret. */
export function verifyGithubSignature(raw: Buffer, header: string | undefined, secrets: string[]): boolean {
  const m = /^sha256=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1], 'hex');
  let ok = false;
  for (const s of secrets) if (timingSafeEqual(createHmac('sha256', s).update(raw).digest(), given)) ok = true;
  return ok;
}

const files = z.array(z.string()).optional();
/** What matchPush reads of a push, checked before it does (a signed body is still only JSON). */
const PushShape = z.object({
  ref: z.string().max(1024),
  after: z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/, 'must be a commit SHA (40 or 64 hex digits)'),
  deleted: z.boolean().optional(),
  repository: z.object({ full_name: z.string(), clone_url: z.string(), html_url: z.string().optional().nullable(), name: z.string().optional() }),
  commits: z.array(z.object({ added: files, modified: files, removed: files })).optional().nullable(),
  head_commit: z.object({ added: files, modified: files, removed: files }).optional().nullable(),
});

/**
 * POST /webhooks/github: verify → parse → rules → enqueue → answer, within milliseconds (GitHub
 * gives up after 10 s). The delivery ID is the job's idempotency key and exists only once the
 * job is enqueued: a redelivery of a delivery we failed still runs, a duplicate does not.
 */
export function mountGithub(app: Express, deps: GithubDeps) {
  const now = deps.now ?? Date.now;
  app.post('/webhooks/github', express.raw({ type: () => true, limit: MAX_PAYLOAD }), async (req: Request, res: Response) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const delivery = req.get('x-github-delivery') ?? '';
    const event = req.get('x-github-event') ?? '';
    if (!verifyGithubSignature(raw, req.get('x-hub-signature-256'), deps.secrets)) {
      deps.log.warn({ delivery, event, ip: req.ip }, 'github delivery refused: bad signature');
      res.status(401).json({ error: 'unauthorized', message: 'X-Hub-Signature-256 does not match any configured GITHUB_WEBHOOK_SECRET' });
      return;
    }
    if (!/^[0-9a-fA-F-]{8,64}$/.test(delivery) || !event) {
      res.status(400).json({ error: 'bad_request', message: delivery && event ? `X-GitHub-Delivery "${delivery.slice(0, 80)}" is not a delivery GUID` : 'missing X-GitHub-Delivery or X-GitHub-Event' });
      return;
    }
    let payload: PushEvent & { zen?: string };
    try {
      payload = JSON.parse(raw.toString('utf8'));
    } catch {
      res.status(400).json({ error: 'bad_request', message: 'body is not JSON (set the webhook content type to application/json)' });
      return;
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      res.status(400).json({ error: 'bad_request', message: 'body is not a JSON object (GitHub sends one per event)' });
      return;
    }
    if (event === 'ping') {
      res.status(200).json({ ok: true, pong: payload.zen ?? true });
      return;
    }
    if (event !== 'push') {
      deps.log.info({ delivery, event }, 'github event not built');
      res.status(202).json({ ignored: `dockops builds on push events; "${event}" is not one` });
      return;
    }
    const shape = PushShape.safeParse(payload);
    if (!shape.success) {
      const i = shape.error.issues[0];
      const what = /received undefined/.test(i.message) ? 'is missing' : i.message.replace(/^Invalid input: /, '');
      res.status(400).json({ error: 'bad_request', message: `not a push event as GitHub sends it: ${i.path.join('.') || 'body'} ${what}` });
      return;
    }
    const plans = matchPush(deps.rules, payload);
    if (!plans.length) {
      const why = payload.deleted ? 'a deletion builds nothing' : `no build rule matches ${payload.ref} of ${payload.repository?.full_name}`;
      deps.log.info({ delivery, ref: payload.ref, repo: payload.repository?.full_name }, 'github push not built');
      res.status(202).json({ ignored: why });
      return;
    }
    // Every plan is checked before any is enqueued: a delivery builds entirely, or says why not.
    const specs: Array<{ p: (typeof plans)[number]; spec: AutobuildSpec }> = [];
    for (const p of plans) {
      const created = new Date(now()).toISOString();
      const spec: AutobuildSpec = {
        kind: 'autobuild',
        repository: p.repo.repository,
        sourceref: p.sourceref,
        sha: p.sha,
        context: p.context,
        dockerfile: p.rule.dockerfile,
        tags: p.tags,
        buildArgs: p.rule.build_args,
        target: p.rule.target,
        push: p.repo.push,
        redeploy: p.rule.redeploy,
        rule: p.ruleIndex,
        timeoutMs: ruleTimeoutMs(p.rule),
        labels: {
          ...p.rule.labels,
          'org.opencontainers.image.source': payload.repository.html_url ?? `https://github.com/${p.repo.repository}`,
          'org.opencontainers.image.revision': p.sha,
          'org.opencontainers.image.created': created,
          'org.opencontainers.image.version': p.sourceref,
          'org.opencontainers.image.title': payload.repository.name ?? p.repo.repository.split('/')[1],
          'dockops.version': VERSION,
        },
      };
      const checked = AutobuildSpec.safeParse(spec);
      if (!checked.success || !p.sourceref) {
        const i = checked.error?.issues[0];
        res.status(400).json({ error: 'bad_request', message: `push of ${JSON.stringify(payload.ref).slice(0, 200)} makes no valid build: ${i ? `${i.path.join('.')} ${i.message}` : 'the branch or tag name is empty'}` });
        return;
      }
      specs.push({ p, spec: checked.data });
    }
    try {
      const ids: string[] = [];
      const superseded: string[] = [];
      for (const { p, spec } of specs) {
        const host = p.repo.host ?? deps.defaultHost;
        const job = await deps.jobs.enqueue({
          spec,
          origin: { door: 'github', delivery, repo: p.repo.repository, sha: p.sha, ...(p.repo.slack_channel ? { slackChannel: p.repo.slack_channel } : {}) },
          host,
          command: `build ${p.repo.repository}@${p.sourceref} → ${p.tags.join(' ')}`,
          idempotencyKey: `gh-${delivery}-${p.ruleIndex}`,
        });
        const id = job.id as string;
        ids.push(id);
        // A newer push to the same ref replaces the build of the older one (same rule).
        const older = await recordBuild(deps.redis, deps.jobs.prefix, { host, repository: p.repo.repository, sourceref: p.sourceref, rule: p.ruleIndex }, id);
        if (older) {
          const how = await supersedeBuild(deps.jobs, deps.redis, deps.log, older, { sha: p.sha, jobId: id });
          if (how === 'removed' || how === 'cancelling') superseded.push(older);
        }
      }
      deps.log.info({ delivery, jobs: ids, superseded }, 'github push enqueued');
      res.status(202).json({ jobs: ids, ...(superseded.length ? { superseded } : {}) });
    } catch (err) {
      deps.log.error({ err: (err as Error).message, delivery }, 'github push not enqueued');
      // 503: GitHub marks the delivery failed, and a redelivery will run (the ID was not recorded).
      res.status(503).json({ error: 'unavailable', message: 'the job queue is unreachable; nothing was enqueued, redeliver later' });
    }
  });
  // Bodies over the cap: GitHub never sends them.
  app.use('/webhooks/github', (err: Error & { type?: string }, _req: Request, res: Response, next: (e?: unknown) => void) => {
    if (err.type === 'entity.too.large') {
      res.status(413).json({ error: 'too_large', message: `payload over ${MAX_PAYLOAD} bytes` });
      return;
    }
    next(err);
  });
}
