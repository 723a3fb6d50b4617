import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { signSlackRequest } from '../../src/doors/slack/verify.js';

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

/**
 * A local HTTP server standing in for Slack: it records what dockops posts to response URLs
 * (and would answer Web API calls), so tests can see exactly what a channel would show.
 */
export async function standInSlack(opts: { rateLimitOnce?: string[] } = {}) {
  const posts: Array<{ path: string; body: any; at: number }> = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const limited = new Set(opts.rateLimitOnce ?? []);
  let ts = 1_700_000_000;
  const waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString();
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        body = Object.fromEntries(new URLSearchParams(raw));
      }
      const p = req.url ?? '';
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
      posts.push({ path: p, body, at: Date.now() });
      waiters.splice(0).forEach((w) => w());
      const b = body as Record<string, string>;
      if (p.endsWith('/chat.postMessage')) res.end(JSON.stringify({ ok: true, channel: b.channel, ts: `${ts++}.000100` }));
      else if (p.endsWith('/chat.update')) res.end(JSON.stringify({ ok: true, channel: b.channel, ts: b.ts }));
      else res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    posts,
    /** Resolves with the first post to `path`, waiting for it if needed. */
    async next(path: string, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = posts.find((p) => p.path === path);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no post to ${path} in time; got ${posts.map((p) => p.path).join(', ')}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A block_actions payload as Slack sends it when a button is clicked (form field `payload`). */
export function blockAction(o: { actionId: string; value: string; user?: string; channel?: string; responseUrl: string }) {
  const payload = {
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
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
