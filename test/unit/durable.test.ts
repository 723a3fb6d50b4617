import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DirectFileStream, writeFileDurably } from '../../src/ops/durable.js';

/** DirectFileStream and writeFileDurably on the real filesystem (the flushes themselves cannot be seen from here: content, modes, errors and leftovers can). */
test('DirectFileStream writes every byte in order across background flushes, with the mode asked', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-durable-'));
  try {
    const file = path.join(dir, 'a.bin');
    // 80 MiB in uneven chunks: more than two flush periods, writev batches of mixed sizes.
    const chunks: Buffer[] = [];
    for (let left = 80 << 20; left > 0; ) {
      const c = randomBytes(Math.min(left, 1 + Math.floor(Math.random() * (3 << 20))));
      chunks.push(c);
      left -= c.length;
    }
    const want = createHash('sha256');
    for (const c of chunks) want.update(c);
    const s = new DirectFileStream(file, { mode: 0o640, durable: true });
    await pipeline(Readable.from(chunks), s);
    assert.equal(s.writableFinished, true);
    assert.equal(statSync(file).size, 80 << 20);
    assert.equal(statSync(file).mode & 0o777, 0o640);
    assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), want.digest('hex'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DirectFileStream fails the pipeline when the file cannot be made, and destroy closes what it opened', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-durable-'));
  try {
    await assert.rejects(pipeline(Readable.from([Buffer.from('x')]), new DirectFileStream(path.join(dir, 'missing', 'a.bin'), { durable: true })), /ENOENT/);
    const s = new DirectFileStream(path.join(dir, 'b.bin'), { durable: true });
    s.write(randomBytes(1 << 20));
    await new Promise((r) => setTimeout(r, 20));
    s.destroy();
    await new Promise((r) => s.once('close', r));
    assert.equal(s.destroyed, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DirectFileStream.writeNow: views of one reused buffer land in order once opened; end() flushes and closes; a failed open says why', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-durable-'));
  try {
    const s = new DirectFileStream(path.join(dir, 'c.bin'), { durable: true });
    assert.throws(() => s.writeNow(Buffer.from('too early')), /is not open/);
    await s.opened;
    const reused = Buffer.alloc(1 << 20);
    const want = createHash('sha256');
    for (let i = 0; i < 40; i++) {
      const view = reused.subarray(0, (1 << 20) - i * 997);
      view.fill(i);
      want.update(view);
      s.writeNow(view);
    }
    s.end();
    await new Promise((r) => s.once('finish', r));
    assert.equal(createHash('sha256').update(readFileSync(path.join(dir, 'c.bin'))).digest('hex'), want.digest('hex'));
    const bad = new DirectFileStream(path.join(dir, 'missing', 'c.bin'));
    bad.on('error', () => undefined);
    await assert.rejects(bad.opened, /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeFileDurably replaces the file whole and leaves no temporary', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-durable-'));
  try {
    const f = path.join(dir, 'm.json');
    await writeFileDurably(f, '{"a":1}\n');
    await writeFileDurably(f, '{"a":2}\n');
    assert.equal(readFileSync(f, 'utf8'), '{"a":2}\n');
    assert.equal(statSync(f).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['m.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
