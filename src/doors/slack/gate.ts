import { z } from 'zod';
import type { Logger } from 'pino';

/** The buttons dockops puts in its messages (src/doors/slack/buttons.ts). */
export const ACTION_IDS = ['dockops_confirm', 'dockops_dismiss', 'dockops_cancel', 'dockops_retry'] as const;

const id = z.string().min(1).max(255);
const url = z
  .string()
  .max(2048)
  .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), 'not an http(s) URL');

/** What a click on one of dockops's buttons must carry before a handler reads it. */
export const Click = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id }),
  // Bolt reads channel.id whenever `channel` is there (null included), and team and enterprise when not null.
  channel: z.object({ id }).optional(),
  team: z.object({ id }).nullish(),
  enterprise: z.object({ id }).nullish(),
  response_url: url,
  // Slack caps a button's value at 2,000 characters.
  actions: z.array(z.object({ action_id: z.enum(ACTION_IDS), value: z.string().max(2000) })).min(1),
});
export type Click = z.infer<typeof Click>;

/** A slash command as the handler reads it. */
const SlashCommand = z.object({
  command: z.string(),
  text: z.string().max(64 * 1024),
  user_id: id,
  channel_id: id,
  team_id: id,
  response_url: url,
  trigger_id: z.string().optional(),
});

/** What the door does with a (signed or socket-authenticated) Slack body. */
export type Verdict = { to: 'bolt' } | { to: 'ignore'; why: string } | { to: 'refuse'; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first problem zod found, as a person reads it: `user.id is missing or not the right type`. */
function firstIssue(err: z.ZodError): string {
  const i = err.issues[0];
  const where = i.path.join('.') || 'the body';
  return i.code === 'invalid_type' ? `${where} is missing or not the right type` : `${where}: ${i.message}`;
}

/**
 * Decides, before Bolt sees a body, whether dockops handles it. Bolt and its Socket Mode client
 * read bodies unchecked (`body.event`, `body.user.id`): junk there throws inside a listener, and a
 * body no listener takes waits 3 s and is logged as an error. So: our slash command and our buttons,
 * well formed, go to Bolt; other well-formed Slack bodies are acked and ignored; the rest is refused.
 */
export function classifySlackBody(body: unknown, command: string): Verdict {
  if (!isObject(body)) return { to: 'refuse', message: 'Slack request body is not an object' };
  if (body.type === 'url_verification' || body.ssl_check !== undefined) return { to: 'bolt' };
  if (body.command !== undefined) {
    if (body.command !== command) return { to: 'ignore', why: 'another slash command' };
    const c = SlashCommand.safeParse(body);
    return c.success ? { to: 'bolt' } : { to: 'refuse', message: `Slack slash command is malformed: ${firstIssue(c.error)}` };
  }
  if (body.type === 'block_actions') {
    const first = Array.isArray(body.actions) && isObject(body.actions[0]) ? body.actions[0].action_id : undefined;
    if (!ACTION_IDS.includes(first as (typeof ACTION_IDS)[number])) return { to: 'ignore', why: 'not a dockops button' };
    const c = Click.safeParse(body);
    return c.success ? { to: 'bolt' } : { to: 'refuse', message: `Slack button click is malformed: ${firstIssue(c.error)}` };
  }
  return { to: 'ignore', why: typeof body.type === 'string' ? `${body.type.slice(0, 40)} is not handled` : 'no type dockops handles' };
}

/**
 * A Slack body as Bolt's HTTP receiver reads it (ExpressReceiver `parseRequestBody`): a form
 * (exactly that content type), whose `payload` field (interactivity) is JSON, or else JSON.
 */
export function readSlackBody(raw: Buffer, contentType: string | undefined): { body: unknown } | { problem: string } {
  const text = raw.toString('utf8');
  if (contentType === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(text);
    const payload = form.getAll('payload');
    if (payload.length === 0) return { body: Object.fromEntries(form) };
    if (payload.length > 1) return { problem: 'Slack request body has more than one "payload" field' };
    try {
      return { body: JSON.parse(payload[0]) };
    } catch {
      return { problem: 'the "payload" field of the Slack request is not JSON' };
    }
  }
  try {
    return { body: JSON.parse(text) };
  } catch {
    return { problem: 'Slack request body is neither a form (application/x-www-form-urlencoded) nor JSON' };
  }
}

/** Envelope types Slack sends over Socket Mode (api.slack.com/apis/socket-mode). */
const ENVELOPES = new Set(['events_api', 'slash_commands', 'interactive']);

interface FrameClient {
  listeners(event: 'ws_message'): Array<(data: unknown, isBinary: boolean) => unknown>;
  removeAllListeners(event: 'ws_message'): unknown;
  on(event: 'ws_message', listener: (data: unknown, isBinary: boolean) => void): unknown;
  send(envelopeId: string, body?: Record<string, unknown>): Promise<void>;
}

/**
 * Puts a check in front of a SocketModeClient's frame handler. @slack/socket-mode 3.1
 * (`onWebSocketMessage`) reads `event.type` and `event.payload.event.type` of any JSON frame
 * without checks, in an async listener: a frame of `null`, or an `events_api` envelope without an
 * `event`, is an unhandled rejection that ends the process. Frames reach the client's listener only
 * as `hello`, `disconnect` or a well-formed envelope dockops handles; other envelopes are acked
 * (Slack would send them again) and dropped. Recheck this on every @slack/socket-mode upgrade:
 * it relies on the client emitting 'ws_message' (SlackWebSocket's message handler) to itself.
 */
export function guardSocketFrames(client: FrameClient, command: string, log: Logger) {
  const handlers = client.listeners('ws_message');
  client.removeAllListeners('ws_message');
  client.on('ws_message', (data, isBinary) => {
    // A throw the checks below did not foresee is logged, never an unhandled rejection.
    const pass = () => handlers.forEach((h) => void Promise.resolve().then(() => h(data, isBinary)).catch((err: Error) => log.warn({ err: err?.message }, 'slack socket frame not handled')));
    if (isBinary || (typeof data !== 'string' && !(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data))) return pass();
    let frame: unknown;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer));
    } catch {
      return pass();
    }
    if (isObject(frame) && (frame.type === 'hello' || frame.type === 'disconnect')) return pass();
    const envelopeId = isObject(frame) && typeof frame.envelope_id === 'string' && frame.envelope_id.length > 0 && frame.envelope_id.length <= 255 ? frame.envelope_id : undefined;
    if (!isObject(frame) || typeof frame.type !== 'string' || !ENVELOPES.has(frame.type) || !envelopeId) {
      // Described without String(): a frame's `type` may be an object that has no string form.
      const what = !isObject(frame) ? (Array.isArray(frame) ? 'array' : frame === null ? 'null' : typeof frame) : typeof frame.type === 'string' ? frame.type.slice(0, 40) : `type of ${typeof frame.type}`;
      log.warn({ frame: what }, 'slack socket frame dropped: not an envelope dockops reads');
      if (envelopeId) void client.send(envelopeId).catch(() => undefined);
      return;
    }
    const verdict = frame.type === 'events_api' && !(isObject(frame.payload) && isObject(frame.payload.event) && typeof frame.payload.event.type === 'string') ? ({ to: 'refuse', message: 'events_api envelope without an event' } as const) : classifySlackBody(frame.payload, command);
    if (verdict.to === 'bolt') return pass();
    if (verdict.to === 'refuse') log.warn({ envelope: envelopeId, reason: verdict.message }, 'slack socket envelope refused');
    else log.debug({ envelope: envelopeId, reason: verdict.why }, 'slack socket envelope ignored');
    void client.send(envelopeId).catch((err: Error) => log.warn({ err: err.message }, 'slack socket ack not sent'));
  });
}
