import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import bolt from '@slack/bolt';
import type { Logger } from 'pino';
import { parseCommand } from '../../commands/index.js';
import { checkPolicy } from '../../policy/index.js';
import { DockopsError, UsageError } from '../../errors.js';
import { idempotencyKey, type JobQueues } from '../../jobs/queue.js';
import type { RunPolicy, SlackConfig } from '../../config.js';
import { verifySlackSignature } from './verify.js';
import { cancelButton, confirmBlocks, holdForConfirmation, peekConfirmation, takeConfirmation } from './buttons.js';
import { cancelChannel, type JobData } from '../../jobs/queue.js';
import { commandForKind } from '../../commands/index.js';
import type { Permissions } from '../../policy/file.js';
import { recordAudit } from '../../ops/audit.js';
import type { Redis } from 'ioredis';
import { retryBuild } from '../../builds/retry.js';
import { Click, classifySlackBody, guardSocketFrames, readSlackBody } from './gate.js';

const { App, ExpressReceiver, SocketModeReceiver, LogLevel } = bolt;
type SlackApp = InstanceType<typeof App>;

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
 * A Bolt app on a receiver. `authorize` hands Bolt the bot token as it is: given `token`, Bolt
 * 5.1 calls auth.test before every request it dispatches (with tokenVerificationEnabled off it
 * does not keep the answer), a round trip to Slack inside every ack, and a failure without a bot
 * token. Nothing here needs what auth.test says (ignoreSelf is off; replies use response_url).
 */
function boltApp(receiver: InstanceType<typeof ExpressReceiver> | InstanceType<typeof SocketModeReceiver>, deps: SlackDeps): SlackApp {
  return new App({
    receiver,
    authorize: async () => ({ botToken: deps.config.botToken }),
    ignoreSelf: false,
    logger: boltLogger(deps.log) as never,
    clientOptions: { slackApiUrl: deps.config.apiUrl },
  });
}

/**
 * The Slack door at POST /slack/events: verify (signature and a timestamp within 5 minutes either
 * way, over the raw body) → gate (only well-formed bodies dockops handles reach Bolt) → parse →
 * channel and policy → enqueue → ack, well inside Slack's 3 s.
 * Results go back through the command's response_url (src/report/slack.ts). No Docker call here.
 */
export function mountSlack(app: Express, deps: SlackDeps) {
  const router = express.Router();
  const now = deps.now ?? Date.now;
  const bodyLimit = Math.max(deps.maxBodyBytes, 64 * 1024);
  // Verify first, over the exact bytes; Bolt then parses req.rawBody (its own check would only
  // refuse old requests, not future ones, and knows one secret).
  router.post(
    '/slack/events',
    express.raw({ type: () => true, limit: bodyLimit }),
    (req: Request, res: Response, next: NextFunction) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const verdict = verifySlackSignature(raw, { signature: req.get('x-slack-signature'), timestamp: req.get('x-slack-request-timestamp') }, deps.config.signingSecrets, now());
      if (!verdict.ok) {
        deps.log.warn({ reason: verdict.reason, ip: req.ip }, 'slack request refused');
        res.status(401).json({ error: 'unauthorized', message: `Slack request refused: ${verdict.reason}` });
        return;
      }
      // Only bodies dockops handles, well formed, reach Bolt (src/doors/slack/gate.ts).
      const read = readSlackBody(raw, req.get('content-type'));
      const gate = 'problem' in read ? ({ to: 'refuse', message: read.problem } as const) : classifySlackBody(read.body, deps.config.command);
      if (gate.to === 'refuse') {
        deps.log.warn({ reason: gate.message }, 'slack request refused');
        res.status(400).json({ error: 'bad_request', message: `${gate.message}; nothing was run` });
        return;
      }
      if (gate.to === 'ignore') {
        deps.log.debug({ reason: gate.why }, 'slack request ignored');
        res.status(200).end();
        return;
      }
      (req as Request & { rawBody?: Buffer }).rawBody = raw;
      req.body = undefined;
      next();
    },
  );
  // A body over the cap (or one that breaks off) gets JSON, not express's HTML page with a stack.
  router.use('/slack/events', (err: Error & { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err.type === 'entity.too.large') {
      deps.log.warn({ limit: bodyLimit }, 'slack request refused: body too large');
      res.status(413).json({ error: 'too_large', message: `Slack request body is over ${bodyLimit} bytes (DOCKOPS_MAX_BODY_BYTES); nothing was run` });
      return;
    }
    deps.log.warn({ err: err.message, type: err.type }, 'slack request body not read');
    res.status(err.status && err.status >= 400 && err.status < 500 ? err.status : 400).json({ error: 'bad_request', message: 'Slack request body could not be read; nothing was run' });
  });
  const receiver = new ExpressReceiver({
    signingSecret: deps.config.signingSecrets[0],
    signatureVerification: false,
    router,
    endpoints: '/slack/events',
    logger: boltLogger(deps.log) as never,
    processBeforeResponse: false,
  });
  const slack = boltApp(receiver, deps);
  handleSlack(slack, deps);
  app.use(router);
  return slack;
}

/**
 * The Slack door over Socket Mode (SLACK_APP_TOKEN): Bolt's SocketModeReceiver opens a WebSocket
 * through `apps.connections.open` (at SLACK_API_URL) and Slack's requests come over it, already
 * authenticated by the app token; acks go back as envelopes. The handlers are the HTTP door's.
 * `start()` resolves once Slack said hello; it retries by itself while Slack cannot be reached.
 */
export function socketModeSlack(deps: SlackDeps, appToken: string) {
  const receiver = new SocketModeReceiver({
    appToken,
    logger: boltLogger(deps.log) as never,
    installerOptions: { clientOptions: { slackApiUrl: deps.config.apiUrl } },
  });
  guardSocketFrames(receiver.client as never, deps.config.command, deps.log);
  const slack = boltApp(receiver, deps);
  handleSlack(slack, deps);
  return {
    start: () => slack.start(),
    close: async () => {
      await slack.stop();
    },
  };
}

/**
 * Every Slack handler, whatever carries the requests: parse → channel and policy → enqueue → ack,
 * well inside Slack's 3 s. Results go back through the command's response_url (src/report/slack.ts).
 * No Docker call here.
 */
function handleSlack(slack: SlackApp, deps: SlackDeps) {
  const now = deps.now ?? Date.now;

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
      const host = outcome.host ?? deps.defaultHost;
      if (!deps.jobs.hosts.includes(host)) throw new UsageError(`unknown host "${host}"; configured hosts: ${deps.jobs.hosts.join(', ')}`);
      await deps.permissions.authorize({ door: 'slack', user: command.user_id, channel: command.channel_id }, outcome.spec, host);
      if (outcome.command.destructive) {
        // Nothing is enqueued until the button is clicked (and permissions are checked again then).
        const token = await holdForConfirmation(deps.redis, deps.jobs.prefix, { text, user: command.user_id, channel: command.channel_id, team: command.team_id, host });
        await ack({ response_type: 'ephemeral', text: `docker ${text}: confirm to run`, blocks: confirmBlocks(text, token) as never });
        return;
      }
      const job = await deps.jobs.enqueue({
        spec: outcome.spec,
        origin: { door: 'slack', team: command.team_id, channel: command.channel_id, user: command.user_id, responseUrl: command.response_url },
        host,
        command: text,
        // One invocation, one job, whatever reaches us twice.
        idempotencyKey: idempotencyKey('slack', command.trigger_id || `${command.team_id}:${command.channel_id}:${command.user_id}:${text}`),
      });
      deps.log.info({ jobId: job.id, kind: outcome.spec.kind, door: 'slack', user: command.user_id, channel: command.channel_id }, 'job enqueued');
      // A job for a host nobody serves would wait silently: say so (the job stays queued).
      const warning = await deps.jobs.noWorkerWarning(host);
      const queued = `:hourglass_flowing_sand: <@${command.user_id}> \`docker ${text.replace(/`/g, "'")}\` · job ${job.id}${warning ? `\n:warning: ${warning}` : ''}`;
      if (outcome.command.private) {
        // Its answer is for the asker only (audit): nothing shows in the channel.
        await ack({ response_type: 'ephemeral', text: `${queued} · only you will see the answer` });
        return;
      }
      await ack({ response_type: 'in_channel', text: queued, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: queued } }, cancelButton(job.id as string)] as never });
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

  /** Enqueues a command for a clicking user, checking everything again as if it were typed now. */
  async function enqueueFor(user: string, channel: string, team: string, text: string, responseUrl: string, key: string) {
    const allowed = deps.config.allowedChannels;
    if (!allowed.includes('*') && !allowed.includes(channel)) throw new DockopsError(`dockops is not enabled in this channel (${channel}).`, 'policy', 125);
    const outcome = parseCommand(text, { now });
    if (outcome.type !== 'spec') throw new Error('not a command');
    checkPolicy(outcome.spec, deps.policy);
    const host = outcome.host ?? deps.defaultHost;
    if (!deps.jobs.hosts.includes(host)) throw new UsageError(`unknown host "${host}"`);
    await deps.permissions.authorize({ door: 'slack', user, channel }, outcome.spec, host);
    return deps.jobs.enqueue({
      spec: outcome.spec,
      origin: { door: 'slack', team, channel, user, responseUrl },
      host,
      command: text,
      idempotencyKey: idempotencyKey('slack-button', key),
    });
  }

  /** The click, checked (the door let only well-formed clicks through: this throws on nothing else). */
  const clicked = (body: unknown) => {
    const b = Click.parse(body);
    return { user: b.user.id, channel: b.channel?.id ?? '', team: b.team?.id ?? '', responseUrl: b.response_url, value: b.actions[0].value };
  };

  slack.action('dockops_confirm', async ({ ack, body, respond }) => {
    await ack();
    const c = clicked(body);
    const peek = await peekConfirmation(deps.redis, deps.jobs.prefix, c.value);
    if (peek && peek.user !== c.user) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: `Only <@${peek.user}>, who typed it, can confirm this command.` });
      return;
    }
    const held = await takeConfirmation(deps.redis, deps.jobs.prefix, c.value);
    if (!held) {
      await respond({ replace_original: true, text: 'This confirmation has expired or was already used; nothing was run. Type the command again.' });
      return;
    }
    try {
      const job = await enqueueFor(c.user, held.channel, held.team, held.text, c.responseUrl, c.value);
      const warning = await deps.jobs.noWorkerWarning((job.data as JobData).host);
      const queued = `:hourglass_flowing_sand: <@${c.user}> \`docker ${held.text.replace(/`/g, "'")}\` · job ${job.id}${warning ? `\n:warning: ${warning}` : ''}`;
      await respond({ replace_original: true, response_type: 'in_channel', text: queued, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: queued } }, cancelButton(job.id as string)] as never });
    } catch (err) {
      await respond({ replace_original: true, text: err instanceof DockopsError ? code(err.message) : 'dockops could not queue this command; nothing was run.' });
    }
  });

  slack.action('dockops_dismiss', async ({ ack, body, respond }) => {
    await ack();
    await takeConfirmation(deps.redis, deps.jobs.prefix, clicked(body).value);
    await respond({ delete_original: true });
  });

  slack.action('dockops_cancel', async ({ ack, body, respond }) => {
    await ack();
    const c = clicked(body);
    const job = await deps.jobs.get(c.value);
    if (!job) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: `No job ${c.value} (it may have expired).` });
      return;
    }
    const data = job.data as JobData;
    try {
      // Cancelling needs the role that running the command needs.
      await deps.permissions.authorize({ door: 'slack', user: c.user, channel: c.channel }, data.spec, data.host);
    } catch (err) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: (err as Error).message });
      return;
    }
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') {
      await respond({ response_type: 'ephemeral', replace_original: false, text: `Job ${c.value} has already ${state}.` });
      return;
    }
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
      await job.remove();
      await respond({ replace_original: true, text: `:no_entry_sign: \`docker ${data.command}\` cancelled by <@${c.user}> before it started.` });
      return;
    }
    await deps.redis.publish(cancelChannel(deps.jobs.prefix), c.value);
    deps.log.info({ jobId: c.value, user: c.user }, 'slack cancel requested');
  });

  slack.action('dockops_retry', async ({ ack, body, respond }) => {
    await ack();
    const c = clicked(body);
    const job = await deps.jobs.get(c.value);
    if (!job) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: `No job ${c.value} (it may have expired).` });
      return;
    }
    const data = job.data as JobData;
    if (data.spec.kind === 'autobuild') {
      // A build a push started: the same build again, in a message of its own (src/report/slack-builds.ts).
      try {
        await deps.permissions.authorize({ door: 'slack', user: c.user, channel: c.channel }, data.spec, data.host);
        const again = await retryBuild(deps.jobs, deps.redis, deps.log, job, `${c.value}:${c.user}:${Date.now()}`);
        await respond({ response_type: 'ephemeral', replace_original: false, text: `Retrying the build of ${data.spec.repository}@${data.spec.sourceref} as job ${again.id}.` });
      } catch (err) {
        await respond({ response_type: 'ephemeral', replace_original: false, text: err instanceof DockopsError ? err.message : 'dockops could not queue the retry.' });
      }
      return;
    }
    try {
      const cmd = commandForKind(data.spec.kind);
      if (cmd?.destructive) throw new DockopsError('Retrying a command that deletes things needs it typed again.', 'policy', 125);
      const again = await enqueueFor(c.user, data.origin.door === 'slack' ? data.origin.channel : c.channel, c.team, data.command, c.responseUrl, `${c.value}:${Date.now()}`);
      const warning = await deps.jobs.noWorkerWarning((again.data as JobData).host);
      const queued = `:repeat: <@${c.user}> retried \`docker ${data.command.replace(/`/g, "'")}\` · job ${again.id}${warning ? `\n:warning: ${warning}` : ''}`;
      await respond({ replace_original: true, response_type: cmd?.private ? 'ephemeral' : 'in_channel', text: queued, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: queued } }, cancelButton(again.id as string)] as never });
    } catch (err) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: err instanceof DockopsError ? err.message : 'dockops could not queue the retry.' });
    }
  });
}
