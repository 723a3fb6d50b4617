import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { signSlackRequest } from '../../src/doors/slack/verify.js';
import { WebSocketServer, type WebSocket } from 'ws';

/** What Slack sends for a slash command (form-encoded), with overrides. */
export function slashCommand(o: { text: string; responseUrl: string; channel?: string; user?: string; triggerId?: string; command?: string }) {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T0001',
    team_domain: 'acme',
    channel_id: o.channel ?? 'C0OPS',
    channel_name: 'ops',
    user_id: o.user ?? 'U0ALICE',
    user_name: 'alice',
    command: o.command ?? '/docker',
    text: o.text,
    api_app_id: 'A0DOCKOPS',
    is_enterprise_install: 'false',
    response_url: o.responseUrl,
    trigger_id: o.triggerId ?? `${Date.now()}.${randomBytes(6).toString('hex')}`,
  }).toString();
}

/** POSTs a body to /slack/events signed with Slack's v0 algorithm (or a given signature). */
export async function postSigned(baseUrl: string, body: string, secret: string, opts: { timestampSec?: number; signature?: string } = {}) {
  const sig = signSlackRequest(body, secret, opts.timestampSec ?? Math.floor(Date.now() / 1000));
  const res = await fetch(`${baseUrl}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-signature': opts.signature ?? sig.signature,
      'x-slack-request-timestamp': sig.timestamp,
    },
    body,
  });
  const text = await res.text();
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.status, body: json };
}

export interface StandInOptions {
  /** Methods answered 429 (Retry-After: 1) the first time they are called. */
  rateLimitOnce?: string[];
  /** User groups by ID, with an optional handle, for usergroups.users.list and usergroups.list. */
  usergroups?: Record<string, { handle?: string; users: string[] }>;
  /** Groups whose look-up fails with this Slack error (as a missing scope would). */
  usergroupErrors?: Record<string, string>;
}

/**
 * A local HTTP server standing in for Slack: it records what dockops posts to response URLs and
 * to the Web API, answers the methods dockops calls (chat.postMessage/update, usergroups.*,
 * files.getUploadURLExternal with an upload URL on itself, files.completeUploadExternal,
 * apps.connections.open with a WebSocket URL on itself), and speaks Socket Mode on that
 * WebSocket: `hello` on connect, envelopes sent with `sendEnvelope`, acks recorded.
 */
export async function standInSlack(opts: StandInOptions = {}) {
  /** Every request, in order; `ts` is what chat.postMessage answered. */
  const posts: Array<{ path: string; body: any; at: number; headers?: http.IncomingHttpHeaders; ts?: string }> = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const limited = new Set(opts.rateLimitOnce ?? []);
  let ts = 1_700_000_000;
  let fileN = 0;
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  /** What dockops sent over the Socket Mode WebSocket (acks), parsed. */
  const socketMessages: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const sockets = new Set<WebSocket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString();
      const p = req.url ?? '';
      // The file bytes of files.uploadV2 arrive here (multipart), where getUploadURLExternal sent them.
      if (p.startsWith('/upload/')) {
        posts.push({ path: p, body: raw, at: Date.now(), headers: req.headers });
        wake();
        res.setHeader('content-type', 'text/plain');
        res.end(`OK - ${chunks.reduce((n, c) => n + c.length, 0)}`);
        return;
      }
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        body = Object.fromEntries(new URLSearchParams(raw));
      }
      res.setHeader('content-type', 'application/json');
      // Slack's rate limit, once per listed method: 429 with Retry-After, as the real API does.
      if (limited.has(p)) {
        limited.delete(p);
        posts.push({ path: `${p}#429`, body, at: Date.now() });
        res.statusCode = 429;
        res.setHeader('retry-after', '1');
        res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
        return;
      }
      posts.push({ path: p, body, at: Date.now(), headers: req.headers });
      wake();
      const b = body as Record<string, string>;
      const reply = (o: unknown) => res.end(JSON.stringify(o));
      if (p.endsWith('/chat.postMessage')) {
        const posted = `${ts++}.000100`;
        posts[posts.length - 1].ts = posted;
        reply({ ok: true, channel: b.channel, ts: posted });
      }
      else if (p.endsWith('/chat.update')) reply({ ok: true, channel: b.channel, ts: b.ts });
      else if (p.endsWith('/usergroups.users.list')) {
        const err = opts.usergroupErrors?.[b.usergroup];
        const g = opts.usergroups?.[b.usergroup];
        reply(err ? { ok: false, error: err } : g ? { ok: true, users: g.users } : { ok: false, error: 'no_such_subteam' });
      } else if (p.endsWith('/usergroups.list')) {
        reply({ ok: true, usergroups: Object.entries(opts.usergroups ?? {}).map(([id, g]) => ({ id, handle: g.handle ?? id.toLowerCase() })) });
      } else if (p.endsWith('/files.getUploadURLExternal')) {
        const id = `F${String(++fileN).padStart(6, '0')}`;
        reply({ ok: true, upload_url: `${url}/upload/${id}`, file_id: id });
      } else if (p.endsWith('/files.completeUploadExternal')) {
        reply({ ok: true, files: JSON.parse(b.files ?? '[]') });
      } else if (p.endsWith('/apps.connections.open')) {
        reply({ ok: true, url: `${url.replace(/^http/, 'ws')}/socket/${randomBytes(4).toString('hex')}` });
      } else reply({ ok: true });
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith('/socket/')) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data) => {
        try {
          socketMessages.push(JSON.parse(data.toString()));
        } catch {
          socketMessages.push({ raw: data.toString() });
        }
        wake();
      });
      ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'stand-in', approximate_connection_time: 18060 }, connection_info: { app_id: 'A0DOCKOPS' } }));
      wake();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  async function until<T>(what: string, find: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = find();
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) throw new Error(`${what} did not come in time; got ${posts.map((p) => p.path).join(', ')}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
  return {
    url,
    posts,
    socketMessages,
    /** Resolves with the first post to `path`, waiting for it if needed. */
    next(path: string, timeoutMs = 30_000) {
      return until(`a post to ${path}`, () => posts.find((p) => p.path === path), timeoutMs);
    },
    /** Resolves once a Socket Mode client is connected (and was sent hello). */
    connected(timeoutMs = 30_000) {
      return until('a Socket Mode connection', () => (sockets.size ? true : undefined), timeoutMs);
    },
    /** Sends an envelope to every connected Socket Mode client. */
    sendEnvelope(envelope: unknown) {
      for (const ws of sockets) ws.send(JSON.stringify(envelope));
    },
    /** Sends a frame as it is (any text, JSON or not) to every connected Socket Mode client. */
    sendRaw(frame: string | Buffer) {
      for (const ws of sockets) ws.send(frame);
    },
    /** Resolves with the client's message for an envelope (its ack). */
    ackOf(envelopeId: string, timeoutMs = 30_000) {
      return until(`the ack of ${envelopeId}`, () => socketMessages.find((m) => m.envelope_id === envelopeId), timeoutMs);
    },
    close: () =>
      new Promise<void>((r) => {
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A block_actions payload as Slack sends it when a button is clicked, as an object. */
export function blockActionObject(o: { actionId: string; value: unknown; user?: string; channel?: string; responseUrl: string }): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: { id: o.user ?? 'U0ALICE', username: 'alice', name: 'alice', team_id: 'T0001' },
    api_app_id: 'A0DOCKOPS',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: '1700000000.000100', channel_id: o.channel ?? 'C0OPS', is_ephemeral: false },
    trigger_id: `${Date.now()}.${randomBytes(6).toString('hex')}`,
    team: { id: 'T0001', domain: 'acme' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: o.channel ?? 'C0OPS', name: 'ops' },
    state: { values: {} },
    response_url: o.responseUrl,
    actions: [{ action_id: o.actionId, block_id: 'b1', text: { type: 'plain_text', text: 'x', emoji: true }, value: o.value, type: 'button', action_ts: `${Date.now() / 1000}` }],
  };
}

/** The same as the form body Slack posts (field `payload`). */
export function blockAction(o: { actionId: string; value: string; user?: string; channel?: string; responseUrl: string }) {
  const payload = blockActionObject(o);
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A slash command as Socket Mode delivers it: the same fields as the HTTP form, in an envelope. */
export function slashEnvelope(envelopeId: string, o: Parameters<typeof slashCommand>[0]) {
  return { envelope_id: envelopeId, type: 'slash_commands', accepts_response_payload: true, payload: Object.fromEntries(new URLSearchParams(slashCommand(o))) };
}
