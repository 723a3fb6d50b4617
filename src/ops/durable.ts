import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import fs from 'node:fs';

/** Bytes written between two background flushes of a durable DirectFileStream. */
const FLUSH_EVERY = 32 << 20;

/** O_DIRECT offsets and lengths are multiples of this (the largest logical block size in use). */
const DIO_BLOCK = 4096;
/** One staging buffer: what one write of the thread pool takes to the disk. */
const DIO_BUFFER = 4 << 20;
/** Staging buffers: one being filled while the others are on their way to the disk. */
const DIO_BUFFERS = 3;
const SLAB = DIO_BUFFERS * DIO_BUFFER;
/**
 * Aligned slabs of files that are done, for the next: V8 frees a slab only when it gets round to
 * it, and a worker making backup after backup held one per backup (+44 MB peak RSS in bench/backup).
 */
const spareSlabs: Buffer[] = [];
const SPARE_SLABS = 2;

/**
 * Writes a file opened with O_DIRECT: the bytes go from a ring of aligned staging buffers to the
 * disk by the thread pool, past the page cache. On the machines this runs on (virtual, memory
 * handed back to the host while idle) filling fresh page-cache pages cost the worker 1.4–2.4 s of
 * system CPU a GiB beside the copy itself; O_DIRECT costs one copy into a buffer that stays put.
 * A caller that writes faster than the disk waits on the promise `write` returns.
 */
class DirectIo {
  private readonly bufs: Buffer[] = [];
  private readonly inFlight: Array<Promise<void> | undefined> = [];
  private cur = 0;
  private fill = 0;
  private position = 0;
  /** Bytes taken so far (the file's length once the padding of the last block is cut off). */
  length = 0;
  error: Error | undefined;
  /** Set when the file is being closed: nothing more is written (its descriptor may be reused). */
  private stopped = false;

  private constructor(
    private readonly fd: number,
    private readonly slab: Buffer,
  ) {
    for (let i = 0; i < DIO_BUFFERS; i++) this.bufs.push(slab.subarray(i * DIO_BUFFER, (i + 1) * DIO_BUFFER));
  }

  /**
   * Staging memory whose address the kernel takes for O_DIRECT on `fd`, or undefined if the file
   * cannot be written that way. Node cannot say where a buffer lies, so the kernel is asked: one
   * block written from each 16-byte step of the slab's first block until one is taken (EINVAL
   * means misaligned); the file is cut back to empty after. A slab a finished file gave back is
   * tried first.
   */
  static open(fd: number): DirectIo | undefined {
    const takes = (slab: Buffer, off: number) => {
      try {
        fs.writeSync(fd, slab, off, DIO_BLOCK, 0);
        // Empty again, as any file just opened: its first bytes are the caller's.
        fs.ftruncateSync(fd, 0);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        return false;
      }
    };
    const spare = spareSlabs.pop();
    if (spare && takes(spare, 0)) return new DirectIo(fd, spare);
    const slab = Buffer.alloc(SLAB + DIO_BLOCK);
    for (let off = 0; off < DIO_BLOCK; off += 16) if (takes(slab, off)) return new DirectIo(fd, slab.subarray(off, off + SLAB));
    return undefined;
  }

  /** Copies the views into staging; a promise when the caller must wait for the disk before more. */
  write(views: Buffer[], from = 0, skip = 0): Promise<void> | undefined {
    if (this.error) throw this.error;
    if (this.stopped) throw new Error('the file was closed');
    for (let i = from; i < views.length; i++) {
      const v = views[i]!;
      for (let at = i === from ? skip : 0; at < v.length; ) {
        const busy = this.inFlight[this.cur];
        if (busy) {
          const [vi, va] = [i, at];
          return busy.then(() => this.write(views, vi, va));
        }
        const n = v.copy(this.bufs[this.cur]!, this.fill, at);
        this.fill += n;
        this.length += n;
        at += n;
        if (this.fill === DIO_BUFFER) this.send(DIO_BUFFER);
      }
    }
    return undefined;
  }

  /** Starts the write of the current buffer's first `len` bytes and moves to the next buffer. */
  private send(len: number) {
    const k = this.cur;
    const buf = this.bufs[k]!;
    const position = this.position;
    this.position += len;
    this.cur = (k + 1) % DIO_BUFFERS;
    this.fill = 0;
    this.inFlight[k] = new Promise<void>((resolve) => {
      const more = (done: number) => {
        if (done >= len) {
          this.inFlight[k] = undefined;
          return resolve();
        }
        fs.write(this.fd, buf, done, len - done, position + done, (err, n) => {
          if (!err && (n === 0 || n % DIO_BLOCK !== 0) && done + n < len) err = new Error(`short direct write (${n} of ${len - done} bytes)`) as NodeJS.ErrnoException;
          if (err) {
            this.error ??= err;
            this.inFlight[k] = undefined;
            return resolve();
          }
          more(done + n);
        });
      };
      more(0);
    });
  }

  /** Writes what is left (its last block padded with zeros) and waits for every write; the caller cuts the file to `length`. */
  async finish(): Promise<void> {
    if (this.fill > 0) {
      const len = Math.ceil(this.fill / DIO_BLOCK) * DIO_BLOCK;
      const busy = this.inFlight[this.cur];
      if (busy) await busy;
      this.bufs[this.cur]!.fill(0, this.fill, len);
      this.send(len);
    }
    await this.settled();
    if (this.error) throw this.error;
  }

  /**
   * Refuses further writes and waits for those started (then the descriptor may be closed); the
   * staging slab goes back for the next file.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.settled();
    if (spareSlabs.length < SPARE_SLABS) spareSlabs.push(this.slab);
  }

  private async settled(): Promise<void> {
    await Promise.all(this.inFlight);
  }
}

/**
 * A file written in order, each chunk at once. With `durable`, its pages reach the disk while it
 * is being written: every FLUSH_EVERY bytes an fdatasync runs in the background (one at a time,
 * writes go on beside it), and `_final` waits for the last one. So the stream ends only when the
 * whole file is on disk, and the final flush waits for the tail rather than the whole file (a
 * 1 GiB archive flushed only at the end took ~2.5 s here).
 *
 * Chunks are written at once, on the event loop (a write to the page cache is a copy): a chunk is
 * garbage as soon as it is written, and no thread-pool round trip is paid per chunk. Measured
 * beside the archive API read to /dev/null (bench/backup's limit): fs.createWriteStream with
 * 8 MiB buffers, whose chunks waited for the pool, reached ~0.75 of the limit; this ~0.9.
 *
 * With `directIo`, where the filesystem takes O_DIRECT, the bytes skip the page cache instead (see
 * DirectIo): the copy into staging is the only work on the event loop, and a write that must wait
 * for the disk returns a promise.
 */
export class DirectFileStream extends Writable {
  private fd: number | undefined;
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  private syncError: Error | undefined;

  private readonly mode: number;
  private readonly durable: boolean;
  private readonly wantDirect: boolean;
  private dio: DirectIo | undefined;

  constructor(
    readonly file: string,
    opts: { mode?: number; durable?: boolean; directIo?: boolean } = {},
  ) {
    super({ highWaterMark: 64 << 10 });
    this.mode = opts.mode ?? 0o600;
    this.durable = opts.durable ?? false;
    this.wantDirect = opts.directIo ?? false;
    // The stream reports a failed open itself ('error'); `opened` is for callers of writeNow.
    this.opened.catch(() => undefined);
  }

  private openedWith: ((err: Error | null) => void) | undefined;
  /** Resolves once the file is open (before `writeNow`); rejects if it could not be. */
  readonly opened = new Promise<void>((resolve, reject) => {
    this.openedWith = (err) => (err ? reject(err) : resolve());
  });

  /** True when the file is written with O_DIRECT (asked for, and the filesystem takes it). */
  get direct(): boolean {
    return this.dio !== undefined;
  }

  override _construct(cb: (err?: Error | null) => void) {
    const opened = (err: Error | null, fd?: number) => {
      if (!err) this.fd = fd;
      this.openedWith?.(err);
      cb(err);
    };
    if (!this.wantDirect || !fs.constants.O_DIRECT) return fs.open(this.file, 'w', this.mode, opened);
    const { O_WRONLY, O_CREAT, O_TRUNC, O_DIRECT } = fs.constants;
    fs.open(this.file, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, this.mode, (err, fd) => {
      // A filesystem without O_DIRECT (tmpfs on older kernels) refuses the open or every write.
      if (err && (err as NodeJS.ErrnoException).code !== 'EINVAL') return opened(err);
      if (!err) {
        try {
          this.dio = DirectIo.open(fd);
        } catch (e) {
          fs.close(fd, () => opened(e as Error));
          return;
        }
        if (this.dio) return opened(null, fd);
        fs.closeSync(fd);
      }
      fs.open(this.file, 'w', this.mode, opened);
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void) {
    try {
      const wait = this.writeNow(chunk);
      if (wait) wait.then(() => cb(), cb);
      else cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  /**
   * Writes `chunk` now, outside the stream's queue: for a caller that owns the stream alone and
   * hands it views of a buffer it reuses (nothing is kept once it has returned, or once the promise
   * it returned has settled: the caller waits for that before reusing the buffer). Throws what the
   * write (or a background flush) failed with. End with `end()` as usual: the final flush and close
   * follow. Only a direct (O_DIRECT) file returns promises.
   */
  writeNow(chunk: Buffer | Buffer[]): Promise<void> | undefined {
    if (this.syncError) throw this.syncError;
    if (this.fd === undefined) throw new Error(`${this.file} is not open`);
    if (this.dio) return this.dio.write(Array.isArray(chunk) ? chunk : [chunk]);
    if (Array.isArray(chunk)) {
      // Several views in one system call (writev), as many times as a short write needs.
      let views = chunk;
      let total = 0;
      for (const v of views) total += v.length;
      for (let left = total; left > 0; ) {
        // At most 512 views a call (IOV_MAX is 1024 on Linux).
        let n = fs.writevSync(this.fd, views.length > 512 ? views.slice(0, 512) : views);
        left -= n;
        if (left === 0) break;
        const rest: Buffer[] = [];
        for (const v of views) {
          if (n >= v.length) n -= v.length;
          else {
            rest.push(n ? v.subarray(n) : v);
            n = 0;
          }
        }
        views = rest;
      }
      this.unsynced += total;
    } else {
      for (let at = 0; at < chunk.length; ) at += fs.writeSync(this.fd, chunk, at);
      this.unsynced += chunk.length;
    }
    if (this.durable && this.unsynced >= FLUSH_EVERY && !this.syncing) {
      this.unsynced = 0;
      this.syncing = new Promise<void>((resolve) =>
        fs.fdatasync(this.fd!, (err) => {
          if (err) this.syncError = err;
          this.syncing = undefined;
          resolve();
        }),
      );
    }
    return undefined;
  }

  override _final(cb: (err?: Error | null) => void) {
    (async () => {
      await this.syncing;
      if (this.syncError) throw this.syncError;
      const fd = this.fd!;
      if (this.dio) {
        await this.dio.finish();
        // The last block went out padded with zeros: the file is cut back to what was written.
        const length = this.dio.length;
        await new Promise<void>((resolve, reject) => fs.ftruncate(fd, length, (err) => (err ? reject(err) : resolve())));
      }
      if (this.durable) await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
      this.fd = undefined;
      await new Promise<void>((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
    })().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void) {
    const fd = this.fd;
    this.fd = undefined;
    // A flush or direct write still running holds the descriptor: close once it is over.
    Promise.all([this.syncing, this.dio?.stop()]).then(() => {
      if (fd === undefined) return cb(err);
      fs.close(fd, () => cb(err));
    });
  }
}

/** Flushes a directory, so an entry renamed or created in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a small file durably: a temporary beside it, flushed, renamed over it, the directory flushed. */
export async function writeFileDurably(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const tmp = path.join(path.dirname(file), `.partial-${path.basename(file)}`);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncDir(path.dirname(file));
}
