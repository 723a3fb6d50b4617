import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
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

/** Whether the kernel opens a file in `dir` with O_DIRECT (asked here apart from the code under test). */
function takesODirect(dir: string): boolean {
  const f = path.join(dir, '.probe');
  try {
    closeSync(openSync(f, constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT));
    return true;
  } catch {
    return false;
  } finally {
    rmSync(f, { force: true });
  }
}

test('DirectFileStream with directIo: O_DIRECT where the filesystem takes it; views of a reused buffer land in order, a fast writer waits, the file is cut to its length', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-durable-'));
  try {
    // Uneven lengths: none ends on a block, so the padded last block must be cut off again.
    for (const total of [0, 3, 4096, (50 << 20) + 12_345]) {
      const file = path.join(dir, `d-${total}.bin`);
      const s = new DirectFileStream(file, { mode: 0o640, durable: true, directIo: true });
      await s.opened;
      assert.equal(s.direct, takesODirect(dir), 'O_DIRECT exactly where the kernel takes it');
      const reused = Buffer.alloc(1 << 20);
      const want = createHash('sha256');
      let waits = 0;
      let i = 0;
      for (let left = total; left > 0; i++) {
        // A batch of views of the one buffer, as a socket read hands them on.
        const views: Buffer[] = [];
        for (let at = 0; at < reused.length && left > 0 && views.length < 3; ) {
          const n = Math.min(left, 1 + ((i * 7919 + views.length * 104_729) % 400_000), reused.length - at);
          const v = reused.subarray(at, at + n);
          v.fill((i * 3 + views.length) & 0xff);
          want.update(v);
          views.push(v);
          at += n;
          left -= n;
        }
        const wait = s.writeNow(views);
        if (wait) {
          waits++;
          await wait;
        }
        // Overwritten as soon as the file is done with it, as the reader's buffer is.
        reused.fill(0xee);
      }
      s.end();
      await finished(s);
      assert.equal(statSync(file).size, total);
      assert.equal(statSync(file).mode & 0o777, 0o640);
      assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), want.digest('hex'), `${total} bytes`);
      // 50 MiB written without a pause fills the staging ring: the writer is told to wait.
      if (total > 20 << 20 && s.direct) assert.ok(waits > 0, 'a writer faster than the disk waits');
    }
    // Through the stream as well, and a second file after the first (its staging memory reused).
    const chunks = Array.from({ length: 9 }, (_, k) => randomBytes(1_000_003 + k));
    const s = new DirectFileStream(path.join(dir, 'p.bin'), { durable: true, directIo: true });
    await pipeline(Readable.from(chunks), s);
    assert.deepEqual(readFileSync(path.join(dir, 'p.bin')), Buffer.concat(chunks));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DirectFileStream with directIo: destroyed midway, it waits for the writes under way, closes, and refuses more', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-durable-'));
  try {
    const s = new DirectFileStream(path.join(dir, 'x.bin'), { durable: true, directIo: true });
    await s.opened;
    const big = randomBytes(5 << 20);
    // 20 MiB: more than the staging ring, so the rest waits for the disk, and is refused once closed.
    const wait = s.writeNow([big, big, big, big])?.then(() => 'written', (err: Error) => err.message);
    s.destroy();
    await new Promise((r) => s.once('close', r));
    assert.equal(s.destroyed, true);
    if (s.direct) assert.equal(await wait, 'the file was closed');
    assert.throws(() => s.writeNow(big), /not open/);
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
