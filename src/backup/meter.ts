import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/** Counts and hashes what passes. */
export class Meter extends Transform {
  constructor() {
    super({ highWaterMark: 4 << 20 });
  }
  bytes = 0;
  private hash = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void) {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    cb(null, chunk);
  }
  digest() {
    return this.hash.digest('hex');
  }
}
