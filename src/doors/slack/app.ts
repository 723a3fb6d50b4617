import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import bolt from '@slack/bolt';
import type { Logger } from 'pino';
import { parseCommand } from '../../commands/index.js';
import { checkPolicy } from '../../policy/index.js';
import { DockopsError } from '../../errors.js';
import { idempotencyKey, type JobQueues } from '../../jobs/queue.js';
import type { RunPolicy, SlackConfig } from '../../config.js';
import { verifySlackSignature } from './verify.js';
import type { Permissions } from '../../policy/file.js';
import { recordAudit } from '../../ops/audit.js';
import type { Redis } from 'ioredis';

const { App, ExpressReceiver, LogLevel } = bolt;

export interface SlackDeps {
  config: SlackConfig;
  jobs: JobQueues;
  policy: RunPolicy;
  defaultHost: string;
  maxBodyBytes: number;
  redis: Redis;
  permissions: Permissions;
  log: Logger;
  now?: () => number;
}

/** Slack's mrkdwn code block around docker's own words. */
function code(text: string): string {
  return '```' + text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n$/, '') + '```';
}

/** Bolt logs through the service's pino logger. */
function boltLogger(log: Logger) {
  return {
    debug: (...m: unknown[]) => log.debug({ bolt: m.map(String).join(' ') }, 'slack bolt'),
    info: (...m: unknown[]) => log.debug({ bolt: m.map(String).join(' ') }, 'slack bolt'),
    warn: (...m: unknown[]) => log.warn({ bolt: m.map(String).join(' ') }, 'slack bolt'),
    error: (...m: unknown[]) => log.error({ bolt: m.map(String).join(' ') }, 'slack bolt'),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}

/**
 * The Slack door at POST /slack/events: verify (signature and a timestamp within 5 minutes either
 * way, over the raw body) → parse → channel and policy → enqueue → ack, well inside Slack's 3 s.
 * Results go back through the command's response_url (src/report/slack.ts). No Docker call here.
 */
export function mountSlack(app: Express, deps: SlackDeps) {
  const router = express.Router();
  const now = deps.now ?? Date.now;
  // Verify first, over the exact bytes; Bolt then parses req.rawBody (its own check would only
  // refuse old requests, not future ones, and knows one secret).
  router.post(
    '/slack/events',
    express.raw({ type: () => true, limit: Math.max(deps.maxBodyBytes, 64 * 1024) }),
    (req: Request, res: Response, next: NextFunction) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const verdict = verifySlackSignature(raw, { signature: req.get('x-slack-signature'), timestamp: req.get('x-slack-request-timestamp') }, deps.config.signingSecrets, now());
      if (!verdict.ok) {
        deps.log.warn({ reason: verdict.reason, ip: req.ip }, 'slack request refused');
        res.status(401).json({ error: 'unauthorized', message: `Slack request refused: ${verdict.reason}` });
        return;
      }
      (req as Request & { rawBody?: Buffer }).rawBody = raw;
      req.body = undefined;
      next();
    },
  );
  const receiver = new ExpressReceiver({
    signingSecret: deps.config.signingSecrets[0],
    signatureVerification: false,
    router,
    endpoints: '/slack/events',
    logger: boltLogger(deps.log) as never,
    processBeforeResponse: false,
  });
  const slack = new App({
    receiver,
    token: deps.config.botToken ?? 'xoxb-not-configured',
    tokenVerificationEnabled: false,
    ignoreSelf: false,
    logger: boltLogger(deps.log) as never,
    clientOptions: { slackApiUrl: deps.config.apiUrl },
  });

  slack.command(deps.config.command, async ({ command, ack }) => {
    const text = command.text.trim();
    const refused = (reason: string) =>
      void recordAudit(deps.redis, deps.jobs.prefix, deps.log, { door: 'slack', who: command.user_id, where: `${command.team_id}/${command.channel_id}`, command: text.slice(0, 1024), outcome: 'refused', reason });
    const allowed = deps.config.allowedChannels;
    if (!allowed.includes('*') && !allowed.includes(command.channel_id)) {
      refused('channel not allowed');
      await ack({ response_type: 'ephemeral', text: `dockops is not enabled in this channel (${command.channel_id}). An admin can add it to SLACK_ALLOWED_CHANNELS.` });
      return;
    }
    try {
      const outcome = parseCommand(text, { now });
      if (outcome.type === 'help') {
        await ack({ response_type: 'ephemeral', text: code(outcome.text) });
        return;
      }
      checkPolicy(outcome.spec, deps.policy);
      deps.permissions.authorize({ door: 'slack', user: command.user_id, channel: command.channel_id }, outcome.spec, deps.defaultHost);
      const job = await deps.jobs.enqueue({
        spec: outcome.spec,
        origin: { door: 'slack', team: command.team_id, channel: command.channel_id, user: command.user_id, responseUrl: command.response_url },
        host: deps.defaultHost,
        command: text,
        // One invocation, one job, whatever reaches us twice.
        idempotencyKey: idempotencyKey('slack', command.trigger_id || `${command.team_id}:${command.channel_id}:${command.user_id}:${text}`),
      });
      deps.log.info({ jobId: job.id, kind: outcome.spec.kind, door: 'slack', user: command.user_id, channel: command.channel_id }, 'job enqueued');
      await ack({ response_type: 'in_channel', text: `:hourglass_flowing_sand: <@${command.user_id}> \`docker ${text.replace(/`/g, "'")}\` · job ${job.id}` });
    } catch (err) {
      if (err instanceof DockopsError) {
        if (err.code !== 'unavailable') refused(err.message.split('\n')[0]);
        const msg = err.code === 'unavailable' ? 'dockops cannot reach its job queue right now; nothing was run. Try again shortly.' : err.message;
        await ack({ response_type: 'ephemeral', text: code(msg) });
        return;
      }
      deps.log.error({ err }, 'slack command failed');
      await ack({ response_type: 'ephemeral', text: 'dockops could not queue this command (the queue is unreachable or an internal error happened); nothing was run. Try again shortly.' });
    }
  });

  app.use(router);
  return slack;
}
