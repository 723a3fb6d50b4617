import express, { type Request, type Response, type Router } from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { parseCommand } from '../../commands/index.js';
import { quoteWords } from '../../commands/tokenize.js';
import { checkPolicy } from '../../policy/index.js';
import { DockopsError, UsageError } from '../../errors.js';
import { cancelChannel, idempotencyKey, jobView, type JobQueues } from '../../jobs/queue.js';
import type { RunPolicy } from '../../config.js';
import type { Logger } from 'pino';
import { bearerAuth } from './auth.js';
import type { Permissions } from '../../policy/file.js';
import { readAudit, recordAudit } from '../../ops/audit.js';
import { ArtifactTooLarge, type ArtifactStore } from '../../artifacts/store.js';
import type { ArtifactLinks } from '../../artifacts/links.js';
import { MAX_LINK_TTL_MS } from '../../config.js';
import { parseTtl } from '../../render/time.js';

const SubmitBody = z
  .object({
    command: z.string().optional(),
    args: z.array(z.string()).max(1024).optional(),
    host: z.string().optional(),
    door: z.enum(['api', 'cli']).default('api'),
    user: z.string().max(64).optional(),
  })
  .refine((b) => (b.command === undefined) !== (b.args === undefined), { message: 'give exactly one of "command" (a string) or "args" (an array of words)' });

export interface ApiDeps {
  jobs: JobQueues;
  artifacts: ArtifactStore;
  /** Signs links to artifacts that work without a token until they expire. */
  links: ArtifactLinks;
  /** How long the signed job page link in a job's view lasts (DOCKOPS_JOB_LINK_TTL); none when unset. */
  jobLinkTtlMs?: number;
  permissions: Permissions;
  redis: Redis;
  tokens: Map<string, string>;
  policy: RunPolicy;
  defaultHost: string;
  maxBodyBytes: number;
  log: Logger;
  now?: () => number;
}

const TERMINAL = new Set(['completed', 'failed']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One place where errors become HTTP answers: usage and policy errors are the person's to fix. */
function sendError(res: Response, err: unknown, log: Logger) {
  if (err instanceof DockopsError) {
    const status = err.code === 'usage' || err.code === 'unknown_command' ? 400 : err.code === 'policy' ? 403 : err.code === 'unavailable' ? 503 : 502;
    res.status(status).json({ error: err.code, message: err.message, exitCode: err.exitCode });
    return;
  }
  const msg = (err as Error)?.message ?? String(err);
  if (/^OOM command not allowed/.test(msg)) {
    log.error({ err: msg }, 'redis is out of memory (maxmemory-policy noeviction): job refused');
    res.status(503).json({ error: 'unavailable', message: 'the job queue (Redis) is full: it reached its maxmemory; nothing was enqueued. Free memory (fewer kept jobs: DOCKOPS_KEEP_JOBS) or raise maxmemory', exitCode: 1 });
    return;
  }
  if (/Stream isn't writeable|Connection is closed|ECONNREFUSED|enableOfflineQueue|MaxRetriesPerRequest/i.test(msg)) {
    res.status(503).json({ error: 'unavailable', message: 'the job queue (Redis) is unreachable; nothing was enqueued, try again shortly', exitCode: 1 });
    return;
  }
  log.error({ err }, 'api request failed');
  res.status(500).json({ error: 'internal', message: 'internal error (logged on the server)', exitCode: 1 });
}

const LinkBody = z.object({ ttl: z.union([z.number().int().positive(), z.string()]).optional() }).strict();

/**
 * Pauses between two checks of pollFor: up to 10 ms during the first 400 ms, then up to a 40th of
 * the time waited so far (at most 100 ms), so noticing the end adds at most ~2.5 % to a job's time.
 */
export function pollPause(previous: number, waitedMs: number): number {
  return Math.min(previous * 2, Math.max(10, Math.min(100, Math.floor(waitedMs / 40))));
}

/**
 * Asks `check` until it answers, the request goes away or `waitMs` is over (its last call is told
 * so), with short pauses: a job that finishes within 400 ms is seen within ~10 ms (measured in
 * bench/dispatch), a longer one within 2.5 % of its time (100 ms at most). Each check is a few Redis round trips: at a 10 ms
 * pace a long job's waiter cost the API and Redis a core's tenth (bench/surface: `save` of 500 MiB).
 */
async function pollFor<T>(req: Request, waitMs: number, check: (last: boolean) => Promise<T | undefined>): Promise<T | undefined> {
  const start = Date.now();
  const deadline = start + waitMs;
  let closed = false;
  req.on('close', () => (closed = true));
  for (let pause = 1; ; pause = pollPause(pause, Date.now() - start)) {
    const last = closed || Date.now() >= deadline;
    const answer = await check(last);
    if (answer !== undefined || last) return answer;
    await sleep(pause);
  }
}

/** Streams a complete artifact as a download (404 when there is none). */
async function sendArtifact(deps: ApiDeps, id: string, res: Response) {
  const a = await deps.artifacts.stat(id);
  if (!a) {
    res.status(404).json({ error: 'not_found', message: `no artifact ${id} (it may have expired)` });
    return;
  }
  const { stream } = await deps.artifacts.open(a.id);
  res.set({ 'content-type': 'application/octet-stream', 'content-length': String(a.size), 'content-disposition': `attachment; filename="${a.name}"`, 'x-checksum-sha256': a.sha256 });
  stream.on('error', (err) => res.destroy(err));
  stream.pipe(res);
}

/**
 * A job's view with a fresh signed link on each of its artifacts and, when configured, a signed
 * link to its web page (`page`). Links are never stored in Redis.
 */
function withLinks<T extends { id?: string | null; result: { artifacts?: Array<{ id: string }> } | null }>(view: T, links: ArtifactLinks, pageTtlMs?: number): T {
  if (pageTtlMs && view.id) {
    const l = links.signJobPage(view.id, pageTtlMs);
    view = { ...view, page: { url: l.url, expiresAt: l.expiresAt } };
  }
  if (!view.result?.artifacts?.length) return view;
  const artifacts = view.result.artifacts.map((a) => {
    const l = links.sign(a.id);
    return { ...a, url: l.url, urlExpiresAt: l.expiresAt };
  });
  return { ...view, result: { ...view.result, artifacts } };
}

/** The REST door: verify (bearer) → parse → policy → enqueue → 202. No Docker call here. */
export function apiRouter(deps: ApiDeps): Router {
  const r = express.Router();
  // A signed link (`?expires=…&sig=…`) is its own credential: checked before the bearer token.
  r.get('/artifacts/:id', async (req: Request, res: Response, next: (e?: unknown) => void) => {
    if (req.query.sig === undefined && req.query.expires === undefined) return next();
    const id = String(req.params.id);
    const check = deps.links.verify(id, req.query.expires, req.query.sig);
    if (!check.ok) {
      res.status(check.why === 'expired' ? 410 : 403).json({ error: check.why === 'expired' ? 'link_expired' : 'invalid_link', message: check.message });
      return;
    }
    try {
      deps.log.info({ artifact: id, ip: req.ip }, 'artifact fetched through a signed link');
      await sendArtifact(deps, id, res);
    } catch (err) {
      sendError(res, err, deps.log);
    }
  });
  r.use(bearerAuth(deps.tokens));
  r.use(express.json({ limit: deps.maxBodyBytes, strict: true }));

  r.post('/jobs', async (req: Request, res: Response) => {
    const body = SubmitBody.safeParse(req.body);
    if (!body.success) {
      res.status(400).json({ error: 'bad_request', message: body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), exitCode: 125 });
      return;
    }
    const { command, args, door, user } = body.data;
    let host = body.data.host ?? deps.defaultHost;
    const text = args ? quoteWords(args) : (command as string).trim();
    const tokenName = res.locals.tokenName as string;
    try {
      const early = parseCommand(args ?? (command as string), { now: deps.now ?? Date.now });
      if (early.type === 'spec' && early.host) {
        if (body.data.host && body.data.host !== early.host) throw new UsageError(`--host ${early.host} and "host": "${body.data.host}" disagree; give one`);
        host = early.host;
      }
      if (!deps.jobs.hosts.includes(host)) {
        res.status(400).json({ error: 'unknown_host', message: `unknown host "${host}"; configured hosts: ${deps.jobs.hosts.join(', ')}`, exitCode: 125 });
        return;
      }
      const outcome = early;
      if (outcome.type === 'help') {
        res.status(200).json({ help: outcome.text, exitCode: 0 });
        return;
      }
      checkPolicy(outcome.spec, deps.policy);
      await deps.permissions.authorize({ door, token: tokenName }, outcome.spec, host);
      const key = req.get('idempotency-key');
      if (key !== undefined && (key.length < 1 || key.length > 200)) {
        res.status(400).json({ error: 'bad_request', message: 'Idempotency-Key must be 1 to 200 characters', exitCode: 125 });
        return;
      }
      const origin = door === 'cli' ? { door: 'cli' as const, token: tokenName, user } : { door: 'api' as const, token: tokenName, ip: req.ip };
      const job = await deps.jobs.enqueue({
        spec: outcome.spec,
        origin,
        host,
        command: text,
        idempotencyKey: key ? idempotencyKey(`api-${tokenName}`, key) : undefined,
      });
      deps.log.info({ jobId: job.id, kind: outcome.spec.kind, host, door, tokenName }, 'job enqueued');
      // A job for a host nobody serves would wait silently: say so (the job stays queued).
      const warning = await deps.jobs.noWorkerWarning(host);
      // `?wait=S` (up to 60 s): answer with the finished job and its whole output when it ends in time.
      const waitMs = Math.min(60, Math.max(0, Number(req.query.wait ?? 0) || 0)) * 1000;
      if (waitMs > 0 && !warning) {
        const finished = await pollFor(req, waitMs, async () => (TERMINAL.has(await job.getState()) ? deps.jobs.get(job.id as string) : undefined));
        if (finished) {
          const { entries } = await deps.jobs.logs(job.id as string, 0);
          res.status(200).location(`/api/jobs/${job.id}`).json({ id: job.id, host, kind: outcome.spec.kind, done: true, job: withLinks(await jobView(finished), deps.links, deps.jobLinkTtlMs), entries });
          return;
        }
      }
      res.status(202).location(`/api/jobs/${job.id}`).json({ id: job.id, host, kind: outcome.spec.kind, ...(warning ? { warning } : {}) });
    } catch (err) {
      if (err instanceof DockopsError && err.code !== 'unavailable') {
        const who = door === 'cli' && user ? `${tokenName}/${user}` : tokenName;
        void recordAudit(deps.redis, deps.jobs.prefix, deps.log, { door, who, where: door === 'api' ? req.ip : undefined, command: text.slice(0, 1024), host, outcome: 'refused', reason: err.message.split('\n')[0] });
      }
      sendError(res, err, deps.log);
    }
  });

  /**
   * Uploads a file for a later command (`load -i artifact:ID`): the body is streamed to disk as
   * it arrives, hashed, and refused past DOCKOPS_ARTIFACT_MAX_BYTES. `?name=` names the file.
   */
  r.post('/artifacts', async (req: Request, res: Response) => {
    try {
      if (Array.isArray(req.query.name)) throw new UsageError('give ?name= once: one upload is one file', 1);
      const name = String(req.query.name ?? 'upload');
      const declared = Number(req.get('content-length') ?? 0);
      if (declared > deps.artifacts.maxBytes) {
        res.status(413).json({ error: 'too_large', message: `upload is over ${deps.artifacts.maxBytes} bytes (DOCKOPS_ARTIFACT_MAX_BYTES)` });
        req.resume();
        return;
      }
      // `?follow=1`: the answer starts at once with the artifact's id (one JSON line), so a job can read
      // it while it is still arriving (load, import); the last line says how the upload ended.
      if (req.query.follow === '1') {
        let started = false;
        try {
          const a = await deps.artifacts.write(name, req, undefined, (s) => {
            started = true;
            res.status(201).set('content-type', 'application/x-ndjson').location(`/api/artifacts/${s.id}`);
            res.write(`${JSON.stringify({ id: s.id, name: s.name, state: 'writing' })}\n`);
          });
          deps.log.info({ artifact: a.id, size: a.size, tokenName: res.locals.tokenName }, 'artifact uploaded');
          res.end(`${JSON.stringify({ ...a, state: 'complete' })}\n`);
        } catch (err) {
          if (!started) throw err;
          res.end(`${JSON.stringify({ state: 'failed', error: err instanceof ArtifactTooLarge ? 'too_large' : 'upload_failed', message: (err as Error).message })}\n`);
        }
        return;
      }
      const a = await deps.artifacts.write(name, req);
      deps.log.info({ artifact: a.id, size: a.size, tokenName: res.locals.tokenName }, 'artifact uploaded');
      res.status(201).location(`/api/artifacts/${a.id}`).json(a);
    } catch (err) {
      if (err instanceof ArtifactTooLarge) {
        res.status(413).json({ error: 'too_large', message: err.message });
        return;
      }
      // The client went away mid-upload: its partial file is gone (ArtifactStore.write); nobody is there to answer.
      if (req.destroyed && !req.complete) {
        deps.log.warn({ err: (err as Error).message, tokenName: res.locals.tokenName }, 'artifact upload broken off by the client');
        return;
      }
      sendError(res, err, deps.log);
    }
  });

  r.get('/artifacts/:id', async (req: Request, res: Response) => {
    try {
      const id = String(req.params.id);
      // `?follow=1`: an artifact still being written is sent as it grows (the CLI downloads `save -o`
      // beside the job); the response ends with the last byte, or breaks off if the write fails.
      if (req.query.follow === '1' && (await deps.artifacts.writing(id))) {
        const ac = new AbortController();
        req.on('close', () => ac.abort());
        res.set({ 'content-type': 'application/octet-stream', 'x-dockops-follow': '1' });
        deps.log.info({ artifact: id, tokenName: res.locals.tokenName }, 'artifact followed while it is written');
        const stream = deps.artifacts.follow(id, ac.signal);
        stream.on('error', (err) => {
          deps.log.warn({ artifact: id, err: err.message }, 'followed artifact not completed');
          res.destroy(err);
        });
        stream.pipe(res);
        return;
      }
      await sendArtifact(deps, id, res);
    } catch (err) {
      sendError(res, err, deps.log);
    }
  });

  /** A fresh signed link to an artifact: body `{"ttl": 3600}` (seconds) or `{"ttl": "2h"}`; default DOCKOPS_ARTIFACT_LINK_TTL. */
  r.post('/artifacts/:id/link', async (req: Request, res: Response) => {
    try {
      const body = LinkBody.safeParse(req.body ?? {});
      const ttlMs = !body.success ? undefined : body.data.ttl === undefined ? deps.links.defaultTtlMs : typeof body.data.ttl === 'number' ? body.data.ttl * 1000 : parseTtl(body.data.ttl);
      if (!ttlMs || ttlMs > MAX_LINK_TTL_MS) {
        res.status(400).json({ error: 'bad_request', message: 'give "ttl" as seconds (3600) or a duration ("2h", "7d"), from 1s to 30d; or leave it out for DOCKOPS_ARTIFACT_LINK_TTL' });
        return;
      }
      const a = await deps.artifacts.stat(String(req.params.id));
      if (!a) {
        res.status(404).json({ error: 'not_found', message: `no artifact ${req.params.id} (it may have expired)` });
        return;
      }
      deps.log.info({ artifact: a.id, ttlMs, tokenName: res.locals.tokenName }, 'artifact link signed');
      res.json({ id: a.id, name: a.name, size: a.size, ...deps.links.sign(a.id, ttlMs) });
    } catch (err) {
      sendError(res, err, deps.log);
    }
  });

  /** The audit trail, newest first: `?count=N` (max 1000), `?before=<entry id>` for the next page. */
  r.get('/audit', async (req: Request, res: Response) => {
    try {
      const count = Math.min(1000, Math.max(1, Number.parseInt(String(req.query.count ?? '100'), 10) || 100));
      const before = typeof req.query.before === 'string' && /^\d+-\d+$/.test(req.query.before) ? req.query.before : undefined;
      res.json({ entries: await readAudit(deps.redis, deps.jobs.prefix, count, before) });
    } catch (err) {
      sendError(res, err, deps.log);
    }
  });

  r.get('/jobs/:id', async (req: Request, res: Response) => {
    try {
      const job = await deps.jobs.get(String(req.params.id));
      if (!job) {
        res.status(404).json({ error: 'not_found', message: `no job ${req.params.id} (it may have expired)` });
        return;
      }
      res.json(withLinks(await jobView(job), deps.links, deps.jobLinkTtlMs));
    } catch (err) {
      sendError(res, err, deps.log);
    }
  });

  /**
   * The job's output from entry `from` on. With `wait=S` it long-polls up to S seconds for new
   * output or the end, so the CLI follows a job without a storm of requests.
   */
  r.get('/jobs/:id/logs', async (req: Request, res: Response) => {
    try {
      const id = String(req.params.id);
      const from = Math.max(0, Number.parseInt(String(req.query.from ?? '0'), 10) || 0);
      const waitMs = Math.min(30, Math.max(0, Number(req.query.wait ?? 0) || 0)) * 1000;
      const answer = await pollFor(req, waitMs, async (last) => {
        const job = await deps.jobs.get(id);
        if (!job) return { status: 404, body: { error: 'not_found', message: `no job ${id} (it may have expired)` } };
        const state = await job.getState();
        const { entries, next } = await deps.jobs.logs(id, from);
        const done = TERMINAL.has(state);
        if (!entries.length && !done && !last) return undefined;
        // Re-read the job: the copy above may predate its completion (and so its result).
        const fresh = done ? await deps.jobs.get(id) : undefined;
        const view = fresh ? withLinks(await jobView(fresh), deps.links, deps.jobLinkTtlMs) : undefined;
        // progress: what the job reports while it runs (the CLI takes `run --cidfile`'s container ID from it).
        return { status: 200, body: { entries, next, state, done, job: view, progress: done ? undefined : job.progress } };
      });
      if (answer) res.status(answer.status).json(answer.body);
    } catch (err) {
      sendError(res, err, deps.log);
    }
  });

  r.post('/jobs/:id/cancel', async (req: Request, res: Response) => {
    try {
      const id = String(req.params.id);
      const job = await deps.jobs.get(id);
      if (!job) {
        res.status(404).json({ error: 'not_found', message: `no job ${id}` });
        return;
      }
      const state = await job.getState();
      if (TERMINAL.has(state)) {
        res.status(409).json({ error: 'finished', message: `job ${id} already ${state}` });
        return;
      }
      if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
        await job.remove();
        res.json({ id, cancelled: true, state: 'removed' });
        return;
      }
      await deps.redis.publish(cancelChannel(deps.jobs.prefix), id);
      res.status(202).json({ id, cancelled: true, state });
    } catch (err) {
      sendError(res, err, deps.log);
    }
  });

  // Bodies over the cap and malformed JSON get a message a person can act on.
  r.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, next: (e?: unknown) => void) => {
    if (err.type === 'entity.too.large') {
      res.status(413).json({ error: 'too_large', message: `request body is over ${deps.maxBodyBytes} bytes (DOCKOPS_MAX_BODY_BYTES)`, exitCode: 125 });
      return;
    }
    if (err.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'bad_request', message: 'request body is not valid JSON', exitCode: 125 });
      return;
    }
    next(err);
  });
  return r;
}
