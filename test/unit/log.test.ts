import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';

function capture() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, dest };
}

test('one JSON line per event; secrets are redacted wherever they sit', () => {
  const { lines, dest } = capture();
  const log = createLogger('info', dest);
  log.child({ jobId: 'local.1', kind: 'image.pull', host: 'local' }).info(
    { token: 'tok-123', headers: { authorization: 'Bearer abc' }, auth: { password: 'hunter2' }, registryAuth: 'xyz', image: 'busybox' },
    'image pulled',
  );
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.msg, 'image pulled');
  assert.equal(entry.jobId, 'local.1');
  assert.equal(entry.kind, 'image.pull');
  assert.equal(entry.image, 'busybox');
  assert.equal(entry.token, '[redacted]');
  assert.equal(entry.headers.authorization, '[redacted]');
  assert.equal(entry.auth.password, '[redacted]');
  assert.equal(entry.registryAuth, '[redacted]');
  for (const secret of ['tok-123', 'Bearer abc', 'hunter2', 'xyz']) assert.ok(!lines[0].includes(secret), secret);
});
