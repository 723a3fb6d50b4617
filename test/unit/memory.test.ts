import assert from 'node:assert/strict';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { RELEASE_EVERY, ReleasingStream } from '../../src/ops/memory.js';

/** Streams `total` bytes of fresh 64 KiB buffers (as a socket delivers them) through `stage`; the peak of dead buffers. */
async function peakArrayBuffers(stage: () => NodeJS.ReadWriteStream, total: number): Promise<number> {
  let sent = 0;
  const source = new Readable({
    read() {
      if (sent >= total) return this.push(null);
      sent += 64 << 10;
      this.push(Buffer.allocUnsafeSlow(64 << 10).fill(1));
    },
  });
  let peak = 0;
  const sink = new Writable({
    write(_c, _e, cb) {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      cb();
    },
  });
  await pipeline(source, stage(), sink);
  return peak;
}

test('a long stream through ReleasingStream keeps its dead buffers to a few MiB', async () => {
  const total = 384 << 20;
  const released = await peakArrayBuffers(() => new ReleasingStream(), total);
  const plain = await peakArrayBuffers(() => new PassThrough(), total);
  // Freed every RELEASE_EVERY bytes: what is dead at once stays near that, whatever the stream's length.
  assert.ok(released < RELEASE_EVERY * 3, `peak of array buffers with release: ${released} bytes`);
  // And it is the release that does it: without, V8 lets far more pile up.
  assert.ok(plain > released * 2, `without release ${plain} bytes, with ${released}`);
});
