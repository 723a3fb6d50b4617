import type { Readable } from 'node:stream';

/**
 * Splits the engine's multiplexed stdout/stderr stream (8-byte frame headers) as it arrives.
 * A frame may span chunks; the remainder is kept until the rest comes.
 */
export function demux(onFrame: (stream: 'stdout' | 'stderr', data: Buffer) => void) {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const type = buf[0];
      const payload = buf.subarray(8, 8 + size);
      buf = buf.subarray(8 + size);
      if (type === 1 || type === 0) onFrame('stdout', payload);
      else if (type === 2) onFrame('stderr', payload);
    }
  };
}

/** Demuxes a whole buffer (the answer of a non-following `logs`). */
export function demuxBuffer(all: Buffer): Array<{ stream: 'stdout' | 'stderr'; data: Buffer }> {
  const out: Array<{ stream: 'stdout' | 'stderr'; data: Buffer }> = [];
  demux((stream, data) => out.push({ stream, data }))(all);
  return out;
}

/** One decoded message of a pull/push/build progress stream (docker's jsonmessage). */
export interface JsonMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: Record<string, unknown>;
}

/** Reads newline-delimited JSON messages from a progress stream, calling back for each. */
export function readJsonMessages(stream: Readable, onMessage: (m: JsonMessage) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let rest = '';
    const onAbort = () => {
      stream.destroy();
      reject(signal?.reason ?? new Error('aborted'));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer) => {
      rest += chunk.toString('utf8');
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (line) {
          try {
            onMessage(JSON.parse(line) as JsonMessage);
          } catch {
            onMessage({ stream: line + '\n' });
          }
        }
      }
    });
    stream.on('end', () => {
      signal?.removeEventListener('abort', onAbort);
      if (rest.trim()) {
        try {
          onMessage(JSON.parse(rest) as JsonMessage);
        } catch {
          /* a torn last line carries nothing we can show */
        }
      }
      resolve();
    });
    stream.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
}

/**
 * The line the docker CLI prints for one progress message when its output is not a terminal:
 * messages that only move a progress bar are skipped, as docker's jsonmessage does.
 */
export function jsonMessageLine(m: JsonMessage): string | undefined {
  if (m.error) return undefined;
  if (m.progressDetail && (m.progressDetail.total || m.progressDetail.current) && m.progress) return undefined;
  if (m.stream !== undefined) return m.stream;
  if (m.status === undefined) return undefined;
  return `${m.id ? `${m.id}: ` : ''}${m.status}\n`;
}
