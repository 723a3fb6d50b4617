import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { BufferRelease } from '../ops/memory.js';

/** Counts and hashes what passes (and frees the dead buffers of a long stream: ops/memory.ts). */
export class Meter extends Transform {
  constructor() {
    super({ highWaterMark: 4 << 20 });
  }
  bytes = 0;
  private hash = createHash('sha256');
  private release = new BufferRelease();
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void) {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    this.release.add(chunk.length);
    cb(null, chunk);
  }
  digest() {
    return this.hash.digest('hex');
  }
}
