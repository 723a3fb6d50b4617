import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useResponseUrl, RESPONSE_URL_TTL_MS } from '../../src/report/slack.js';
import { dropPrefix, redis, testPrefix } from '../support/env.js';

test("a response_url is used at most 5 times, within 30 minutes of the command (Slack's rule), counted in Redis", async () => {
  const r = redis();
  const prefix = testPrefix();
  try {
    const url = 'http://127.0.0.1:9/respond/budget';
    const now = Date.now();
    const uses = [];
    for (let i = 0; i < 7; i++) uses.push(await useResponseUrl(r, prefix, url, now - 1000, now));
    assert.deepEqual(uses, [true, true, true, true, true, false, false]);
    assert.equal(await useResponseUrl(r, prefix, 'http://127.0.0.1:9/respond/other', now - 1000, now), true, 'each URL has its own count');
    assert.equal(await useResponseUrl(r, prefix, 'http://127.0.0.1:9/respond/old', now - RESPONSE_URL_TTL_MS, now), false, 'too old');
    const ttl = await r.pttl(`${prefix}:slack-response-url:${(await import('node:crypto')).createHash('sha256').update(url).digest('hex').slice(0, 32)}`);
    assert.ok(ttl > 0 && ttl <= RESPONSE_URL_TTL_MS, 'the count expires with the URL');
  } finally {
    await dropPrefix(r, prefix);
    r.disconnect();
  }
});
