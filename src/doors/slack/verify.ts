import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's limit on request age, applied both ways: a request from the future is no better. */
export const MAX_SKEW_SECONDS = 5 * 60;

export type SlackVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Slack's request signing (v0): HMAC-SHA256 over `v0:{timestamp}:{raw body}` with the signing
 * secret, compared in constant time. Any of several secrets may match (rotation). The clock is
 * a parameter so tests can move it.
 */
export function verifySlackSignature(
  rawBody: Buffer,
  headers: { signature?: string; timestamp?: string },
  secrets: string[],
  nowMs: number,
): SlackVerdict {
  const { signature, timestamp } = headers;
  if (!signature || !timestamp) return { ok: false, reason: 'missing X-Slack-Signature or X-Slack-Request-Timestamp' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'malformed X-Slack-Request-Timestamp' };
  const skew = Math.abs(Math.floor(nowMs / 1000) - Number(timestamp));
  if (skew > MAX_SKEW_SECONDS) return { ok: false, reason: `request timestamp is ${skew} s away from now (more than ${MAX_SKEW_SECONDS} s): refused as a possible replay` };
  const m = /^v0=([0-9a-f]{64})$/.exec(signature);
  if (!m) return { ok: false, reason: 'malformed X-Slack-Signature' };
  const given = Buffer.from(m[1], 'hex');
  let match = false;
  for (const secret of secrets) {
    const h = createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest();
    if (timingSafeEqual(h, given)) match = true;
  }
  return match ? { ok: true } : { ok: false, reason: 'signature does not match' };
}

/** Signs a body the way Slack does (used by tests and the stand-in Slack). */
export function signSlackRequest(rawBody: string | Buffer, secret: string, timestampSec: number): { signature: string; timestamp: string } {
  const ts = String(timestampSec);
  const h = createHmac('sha256', secret).update(`v0:${ts}:`).update(rawBody).digest('hex');
  return { signature: `v0=${h}`, timestamp: ts };
}
