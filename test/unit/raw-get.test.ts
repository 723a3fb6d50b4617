import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Chunked, rawGetInto, rawOpen } from '../../src/docker/raw-get.js';

/** HTTP/1.1 chunk framing undone in place, whatever way the reads split it. */
test('Chunked: the data between the framing, with size lines, CRLFs and trailers split anywhere', () => {
  const parts = ['hello ', 'chunked ', 'world'];
  const wire = Buffer.from(`${parts.map((p) => `${p.length.toString(16)};ext=1\r\n${p}\r\n`).join('')}0\r\nX-Trailer: yes\r\n\r\n`);
  for (let cut = 1; cut <= wire.length; cut++) {
    for (const step of [1, 3, 7, wire.length]) {
      const c = new Chunked();
      const got: string[] = [];
      // The wire in reads of `step` bytes, after a first read of `cut`.
      const reads = [wire.subarray(0, cut)];
      for (let at = cut; at < wire.length; at += step) reads.push(wire.subarray(at, at + step));
      for (const r of reads) c.decode(r, (v) => got.push(v.toString()));
      assert.equal(got.join(''), parts.join(''), `cut ${cut} step ${step}`);
      assert.equal(c.done, true);
    }
  }
  assert.throws(() => new Chunked().decode(Buffer.from('zz\r\n'), () => undefined), /bad chunk size: "zz"/);
  assert.throws(() => new Chunked().decode(Buffer.from('2\r\nabc\r\n'), () => undefined), /chunk longer than its size/);
  const open = new Chunked();
  open.decode(Buffer.from('5\r\nab'), () => undefined);
  assert.equal(open.done, false);
});

/** A server on a unix socket that answers with `answer` and then closes (an engine that stopped mid-answer). */
async function server(answer: string[], keepOpen = false): Promise<{ sock: string; close(): void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-raw-'));
  const sock = path.join(dir, 's.sock');
  const open = new Set<net.Socket>();
  const srv = net.createServer((c) => {
    open.add(c);
    c.on('error', () => undefined);
    c.once('data', () => {
      for (const a of answer) c.write(a);
      if (!keepOpen) c.end();
    });
  });
  await new Promise<void>((r) => srv.listen(sock, r));
  return { sock, close: () => (open.forEach((c) => c.destroy()), srv.close(), rmSync(dir, { recursive: true, force: true })) };
}

/** The body of the answer at `sock`, read as a stream. */
async function text(sock: string): Promise<string> {
  const body = await rawOpen({ modem: { socketPath: sock } }, '/x')!;
  const chunks: Buffer[] = [];
  for await (const c of body.stream()) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

test('an answer that stops before its last chunk or its length fails ("aborted"), never looks whole', async () => {
  const cut = await server(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '4\r\nabcd\r\n', '4\r\nef']);
  try {
    const seen: string[] = [];
    await assert.rejects(rawGetInto({ modem: { socketPath: cut.sock } }, '/x', undefined, (vs) => void seen.push(...vs.map(String)))!, { message: 'aborted', code: 'ECONNRESET' });
    assert.ok(seen.join('').startsWith('abcd'));
  } finally {
    cut.close();
  }
  const short = await server(['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', 'abc']);
  try {
    const body = await rawOpen({ modem: { socketPath: short.sock } }, '/x')!;
    const chunks: Buffer[] = [];
    await assert.rejects(
      (async () => {
        for await (const c of body.stream()) chunks.push(c as Buffer);
      })(),
      { message: 'aborted' },
    );
  } finally {
    short.close();
  }
  const whole = await server(['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc']);
  try {
    assert.equal(await text(whole.sock), 'abc');
  } finally {
    whole.close();
  }
});

test('a whole answer ends at its last chunk or its length, even when the other side keeps the connection open', async () => {
  const chunked = await server(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n', '2\r\nef\r\n0\r\n\r\n'], true);
  try {
    const seen: string[] = [];
    await rawGetInto({ modem: { socketPath: chunked.sock } }, '/x', undefined, (vs) => void seen.push(...vs.map(String)))!;
    assert.equal(seen.join(''), 'abcdef');
  } finally {
    chunked.close();
  }
  const sized = await server(['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'], true);
  try {
    assert.equal(await text(sized.sock), 'abc');
  } finally {
    sized.close();
  }
  const refused = await server(['HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 35\r\n\r\n{"message":"No such container: x"}\n'], true);
  try {
    await assert.rejects(rawOpen({ modem: { socketPath: refused.sock } }, '/x')!, { statusCode: 404, message: '(HTTP code 404) unexpected - No such container: x ' });
  } finally {
    refused.close();
  }
});

test('readInto: a consumer that returns a promise gets nothing more until it settles, and the body ends after it; a rejection ends the read', async () => {
  // 6 × ~300 kB: more than a socket holds, so the body comes in several reads.
  const parts = Array.from({ length: 6 }, (_, i) => String.fromCharCode(97 + i).repeat(300_000 + i));
  const wire = ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', ...parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`), '0\r\n\r\n'];
  const srv = await server(wire, true);
  try {
    const seen: string[] = [];
    let busy = false;
    let lastSettled = false;
    await rawGetInto({ modem: { socketPath: srv.sock } }, '/x', undefined, (vs) => {
      assert.equal(busy, false, 'no views while the previous promise is pending');
      // Copied now; read again when the promise settles: the buffer must not have been reused meanwhile.
      const now = vs.map(String).join('');
      busy = true;
      lastSettled = false;
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          assert.equal(vs.map(String).join(''), now, 'views untouched while the consumer waits');
          seen.push(now);
          busy = false;
          lastSettled = true;
          resolve();
        }, 20),
      );
    })!;
    assert.equal(lastSettled, true, 'the read ends only after the last promise settled');
    assert.equal(seen.join(''), parts.join(''));
    assert.ok(seen.length > 1, `${seen.length} reads`);
    await assert.rejects(rawGetInto({ modem: { socketPath: srv.sock } }, '/x', undefined, () => Promise.reject(new Error('disk full')))!, /disk full/);
  } finally {
    srv.close();
  }
});
