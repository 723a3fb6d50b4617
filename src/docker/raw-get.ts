import net from 'node:net';
import { Readable } from 'node:stream';

/** Bytes one socket read may bring (the engine's unix socket rarely holds more than ~200 KiB). */
const READ_BUFFER = 1 << 20;
/** How much of an error answer is kept: the engine's error bodies are one short JSON object. */
const ERROR_BODY_MAX = 64 << 10;
/** How much of a head is read before it is refused as not HTTP. */
const HEAD_MAX = 64 << 10;

interface Modem {
  socketPath?: string;
  host?: string;
  port?: number | string;
  protocol?: string;
  version?: string;
}

/** An engine answer that was not 200, in the shape docker-modem gives (statusCode, json). */
export class EngineAnswerError extends Error {
  constructor(
    readonly statusCode: number,
    readonly json: unknown,
    text: string,
  ) {
    super(`(HTTP code ${statusCode}) unexpected - ${text} `);
  }
}

/**
 * GET of a large engine answer (an archive, `docker save`, `export`), read straight off the socket.
 *
 * Each socket read lands in one reused 1 MiB buffer; the chunk framing is undone in place (views, no
 * copy), and only a stream's pieces are copied out. Through dockerode (node's HTTP client, ~29 KiB
 * pieces) the same 1 GiB archive cost this process about 1 s more CPU, on a machine where the engine's own tar
 * and this process share two cores (bench/backup, `--compress none`).
 *
 * `client` is a dockerode client or object (a Container, an Image): its modem says how the engine is
 * reached. Undefined for hosts reached some other way (TLS, ssh): callers use dockerode there. A body that
 * ends before its last chunk (the engine stopped) fails as node's HTTP client would ("aborted").
 */
export function rawGet(client: { modem: unknown }, pathAndQuery: string, signal?: AbortSignal): Promise<Readable> | undefined {
  return rawOpen(client, pathAndQuery, signal)?.then((body) => body.stream());
}

/**
 * The same GET, with no stream and no copy: `consume` is called once per socket read with the body's
 * pieces in it (views of the reused buffer, between the chunk framing), and must be done with them
 * when it returns (hash them, write them with a synchronous write). Resolves when the body has ended; a `consume` that throws ends the read with its error.
 * The socket is read only as fast as `consume` returns, which is the back-pressure.
 */
export function rawGetInto(client: { modem: unknown }, pathAndQuery: string, signal: AbortSignal | undefined, consume: (views: Buffer[]) => void | Promise<void>): Promise<void> | undefined {
  return rawOpen(client, pathAndQuery, signal)?.then((body) => body.readInto(consume));
}

/** A 200 answer whose body has not been taken yet: take it once, as views or as a stream. */
export interface RawBody {
  /**
   * Hands each socket read's pieces to `consume` as views of one reused buffer; a consumer that
   * returns a promise is given nothing more until it settles (the buffer is not reused before).
   */
  readInto(consume: (views: Buffer[]) => void | Promise<void>): Promise<void>;
  stream(): Readable;
  /** Closes the connection without reading (the caller gave up). */
  destroy(): void;
}

interface BodySink {
  /** A piece of the body (a view of the reused buffer); false pauses the socket. */
  body(b: Buffer): boolean;
  /**
   * The socket read that brought the pieces before it is over (the buffer will be reused); false
   * when the sink paused the socket until it is ready for more.
   */
  readDone?(): boolean;
  end(): void;
  error(err: Error): void;
}

/**
 * Connects, sends the GET and reads the head: resolves once the answer is a 200 (its body not
 * taken yet: the socket waits), rejects with the engine's error otherwise. Undefined when the
 * engine is not reached by a plain socket.
 */
export function rawOpen(client: { modem: unknown }, pathAndQuery: string, signal?: AbortSignal): Promise<RawBody> | undefined {
  const m = client.modem as Modem;
  let options: net.NetConnectOpts;
  if (m.socketPath) options = { path: m.socketPath };
  else if (m.protocol === 'http' && m.host) options = { host: m.host, port: Number(m.port ?? 2375) };
  else return undefined;
  const version = m.version ? `/${m.version.replace(/^\/?v?/, 'v')}` : '';
  return new Promise<RawBody>((resolve, reject) => {
    const buffer = Buffer.allocUnsafe(READ_BUFFER);
    let head: Buffer | undefined = Buffer.alloc(0);
    let status = 0;
    let errorBody: Buffer[] | undefined;
    let errorBytes = 0;
    let settled = false;
    // Before the body is taken: what came with the head (copied), the end, or a failure.
    let early: Buffer[] = [];
    let ended = false;
    let failed: Error | undefined;
    let sink: BodySink | undefined;
    // How the body ends: chunked (the usual answer to HTTP/1.1), a length, or the connection's end.
    let framing: Chunked | undefined;
    let lengthLeft: number | undefined;
    const fail = (err: Error) => {
      if (complete) return;
      if (!settled) {
        settled = true;
        reject(err);
      } else if (sink) sink.error(err);
      else failed ??= err;
      socket.destroy();
    };
    const body = (b: Buffer) => {
      if (framing) {
        try {
          framing.decode(b, piece);
        } catch (err) {
          fail(err as Error);
        }
        return;
      }
      if (lengthLeft !== undefined) {
        if (b.length > lengthLeft) b = b.subarray(0, lengthLeft);
        lengthLeft -= b.length;
      }
      piece(b);
    };
    const piece = (b: Buffer) => {
      if (errorBody) {
        if (errorBytes < ERROR_BODY_MAX) errorBody.push(Buffer.from(b.subarray(0, ERROR_BODY_MAX - errorBytes)));
        errorBytes += b.length;
        return;
      }
      if (!b.length) return;
      if (!sink) {
        early.push(Buffer.from(b));
        socket.pause();
        return;
      }
      if (!sink.body(b)) socket.pause();
    };
    // The body is whole (its last chunk, or its length, has come): it ends here, whether or not the
    // other side closes the connection as asked (a proxy in front of a TCP engine might keep it).
    let complete = false;
    const answerError = () => {
      const text = Buffer.concat(errorBody ?? []).toString('utf8');
      let json: unknown = text;
      try {
        json = JSON.parse(text);
      } catch {
        // Not JSON: the text itself is the message.
      }
      const message = typeof json === 'object' && json && 'message' in json ? String((json as { message: unknown }).message) : text.trim();
      fail(new EngineAnswerError(status, json, message));
    };
    const whole = () => {
      if (complete || !((framing && framing.done) || lengthLeft === 0)) return;
      if (errorBody) return answerError();
      if (!settled) return;
      complete = true;
      if (sink) sink.end();
      else ended = true;
      socket.destroy();
    };
    const take = (s: BodySink) => {
      if (sink) throw new Error('the body was taken already');
      sink = s;
      const pieces = early;
      early = [];
      let go = true;
      for (const p of pieces) if (!s.body(p)) go = false;
      if (s.readDone?.() === false) go = false;
      if (failed) return s.error(failed);
      if (ended) return s.end();
      if (go && !complete) socket.resume();
    };
    const answer: RawBody = {
      readInto(consume) {
        let batch: Buffer[] = [];
        // A consumer that must wait (the disk behind it is slower) returns a promise: the socket
        // stays paused, and the buffer untouched, until it settles; the body ends after it.
        let waiting: Promise<void> | undefined;
        return new Promise<void>((done, stop) =>
          take({
            body: (b) => {
              batch.push(b);
              return true;
            },
            readDone: () => {
              if (!batch.length) return true;
              const views = batch;
              batch = [];
              let wait: Promise<void> | void;
              try {
                wait = consume(views);
              } catch (err) {
                socket.destroy();
                stop(err as Error);
                return false;
              }
              if (!wait) return true;
              socket.pause();
              waiting = wait.then(
                () => {
                  waiting = undefined;
                  if (!complete && !socket.destroyed) socket.resume();
                },
                (err: Error) => {
                  socket.destroy();
                  stop(err);
                },
              );
              return false;
            },
            end: () => (waiting ? waiting.then(() => done()) : done()),
            error: stop,
          }),
        );
      },
      stream() {
        const out = new Readable({
          highWaterMark: 4 << 20,
          read() {
            if (socket.isPaused() && sink) socket.resume();
          },
          destroy(err, cb) {
            socket.destroy();
            cb(err);
          },
        });
        // The reused buffer is overwritten by the next read: what leaves is a copy of its own.
        take({ body: (b) => out.push(b.buffer === buffer.buffer ? Buffer.from(b) : b), end: () => out.push(null), error: (err) => out.destroy(err) });
        return out;
      },
      destroy() {
        socket.destroy();
      },
    };
    const socket: net.Socket = net.connect({
      ...options,
      onread: {
        buffer,
        callback: (len: number, buf: Uint8Array) => {
          const b = Buffer.from(buf.buffer, buf.byteOffset, len);
          if (!head) {
            body(b);
            sink?.readDone?.();
            whole();
            return true;
          }
          head = Buffer.concat([head, b]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > HEAD_MAX) fail(new Error('the engine answered with no HTTP head'));
            return true;
          }
          const lines = head.toString('latin1', 0, end).split('\r\n');
          const rest = head.subarray(end + 4);
          head = undefined;
          status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
          const header = (name: string) => lines.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
          if (/chunked/i.test(header('transfer-encoding') ?? '')) framing = new Chunked();
          else if (header('content-length') !== undefined) lengthLeft = Number(header('content-length'));
          if (status === 200) {
            settled = true;
            resolve(answer);
          } else errorBody = [];
          body(rest);
          sink?.readDone?.();
          whole();
          return true;
        },
      },
    } as net.NetConnectOpts);
    socket.on('connect', () => socket.write(`GET ${version}${pathAndQuery} HTTP/1.1\r\nHost: docker\r\nUser-Agent: dockops\r\nConnection: close\r\n\r\n`));
    socket.on('end', () => {
      if (complete) return;
      if (errorBody) return answerError();
      if (!settled) return fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      // The engine stopped in the middle of its answer: never an answer that merely looks short.
      if ((framing && !framing.done) || (lengthLeft !== undefined && lengthLeft > 0)) return fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      if (sink) sink.end();
      else ended = true;
    });
    socket.on('error', fail);
    if (signal) {
      const abort = () => fail(Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
      socket.once('close', () => signal.removeEventListener('abort', abort));
    }
  });
}

/**
 * Undoes HTTP/1.1 chunk framing, handing on views of the data (no copy). Chunk-size lines may be
 * split across reads; trailers after the last chunk are skipped.
 */
export class Chunked {
  /** Data bytes of the current chunk still to come. */
  private left = 0;
  /** 'size': reading a size line; 'data': inside a chunk; 'crlf': the CRLF after a chunk's data; 'trailer': after the last chunk. */
  private state: 'size' | 'data' | 'crlf' | 'trailer' = 'size';
  private line = '';
  done = false;

  decode(b: Buffer, out: (view: Buffer) => void) {
    let at = 0;
    while (at < b.length && !this.done) {
      if (this.state === 'data') {
        const n = Math.min(this.left, b.length - at);
        out(b.subarray(at, at + n));
        at += n;
        this.left -= n;
        if (this.left === 0) this.state = 'crlf';
        continue;
      }
      // A line: the chunk's size, the CRLF after its data, or a trailer line.
      const nl = b.indexOf(10, at);
      const end = nl < 0 ? b.length : nl + 1;
      this.line += b.toString('latin1', at, end);
      at = end;
      if (nl < 0) {
        if (this.line.length > 4096) throw new Error('the engine sent a chunk line over 4 KiB');
        continue;
      }
      const line = this.line.replace(/\r?\n$/, '');
      this.line = '';
      if (this.state === 'crlf') {
        if (line !== '') throw new Error('the engine sent a chunk longer than its size');
        this.state = 'size';
      } else if (this.state === 'size') {
        const hex = line.split(';')[0]!.trim();
        if (!/^[0-9a-f]+$/i.test(hex)) throw new Error(`the engine sent a bad chunk size: ${JSON.stringify(line.slice(0, 40))}`);
        const size = parseInt(hex, 16);
        if (size === 0) this.state = 'trailer';
        else {
          this.left = size;
          this.state = 'data';
        }
      } else if (line === '') this.done = true;
    }
  }
}
