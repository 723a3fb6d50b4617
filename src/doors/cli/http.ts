import { createHash } from 'node:crypto';
import { DirectFileStream } from '../../ops/durable.js';
import { rename, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

export interface HttpAnswer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A small JSON-over-HTTP call on a kept-alive connection (fetch costs more to start up). */
export function requestJson(method: string, url: string, token: string, body?: unknown, signal?: AbortSignal): Promise<HttpAnswer> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method,
        agent: u.protocol === 'https:' ? agents.https : agents.http,
        signal,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : {};
          } catch {
            parsed = { message: text };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export function closeAgents() {
  agents.http.destroy();
  agents.https.destroy();
}

/** Streams a body (a file, stdin) to the API and returns its JSON answer. */
export function uploadStream(url: string, token: string, body: NodeJS.ReadableStream): Promise<HttpAnswer> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method: 'POST', agent: u.protocol === 'https:' ? agents.https : agents.http, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: { message: text } });
        }
      });
    });
    req.on('error', reject);
    body.on('error', (err) => req.destroy(err));
    body.pipe(req);
  });
}

/**
 * Uploads with `?follow=1`: resolves as soon as the server names the artifact (its first line), while
 * the body is still being sent, so the job can start reading it; `done` resolves with the last line
 * (the complete artifact, or why the upload failed); `abort()` stops sending.
 */
export function uploadFollow(url: string, token: string, body: NodeJS.ReadableStream): Promise<{ status: number; first: any; done: Promise<any>; abort(): void }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const u = new URL(url);
  u.searchParams.set('follow', '1');
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = mod.request(u, { method: 'POST', agent: u.protocol === 'https:' ? agents.https : agents.http, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      let first: unknown;
      let resolveDone: (v: unknown) => void;
      const done = new Promise((r) => (resolveDone = r));
      const parse = (line: string) => {
        try {
          return JSON.parse(line);
        } catch {
          return { message: line };
        }
      };
      res.on('data', (c: Buffer) => {
        text += c.toString('utf8');
        const nl = text.indexOf('\n');
        if (first === undefined && nl >= 0) {
          first = parse(text.slice(0, nl));
          settled = true;
          resolve({ status: res.statusCode ?? 0, first, done, abort: () => req.destroy() });
        }
      });
      res.on('end', () => {
        const lines = text.trim().split('\n');
        const last = parse(lines[lines.length - 1] ?? '');
        if (!settled) {
          settled = true;
          resolve({ status: res.statusCode ?? 0, first: last, done: Promise.resolve(last), abort: () => undefined });
        }
        resolveDone(last);
      });
      res.on('error', () => resolveDone({ state: 'failed', message: 'the upload was cut off' }));
    });
    req.on('error', (err) => (settled ? undefined : reject(err)));
    body.on('error', (err) => req.destroy(err));
    body.pipe(req);
  });
}

/** Streams a download into `out`; resolves with the HTTP status (the body is only written on 200). */
export function downloadTo(url: string, token: string, out: NodeJS.WritableStream): Promise<number> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method: 'GET', agent: u.protocol === 'https:' ? agents.https : agents.http, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        return;
      }
      res.pipe(out as NodeJS.WritableStream);
      res.on('error', reject);
      (out as NodeJS.WritableStream).on('finish', () => resolve(200));
      if (out === process.stdout) res.on('end', () => resolve(200));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Downloads a job's output file while the job writes it (`save -o`, `export -o`): it waits for the
 * artifact's id in the job's progress, then follows `GET /api/artifacts/:id?follow=1` into a temporary
 * file beside `target`, hashing on the way. `settle(sha256)` (once the job is done) keeps the file only
 * when its sha256 is the artifact's, and answers whether it did; anything else removes it, and the
 * caller downloads the complete artifact the ordinary way.
 */
export function followDownload(url: string, token: string, jobId: string, target: string, signal: AbortSignal) {
  let stopped = false;
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.dockops-follow`);
  const run = (async (): Promise<string | undefined> => {
    let id: string | undefined;
    for (let pause = 10; !stopped && !signal.aborted; pause = Math.min(pause * 2, 100)) {
      const r = await requestJson('GET', `${url}/api/jobs/${jobId}`, token, undefined, signal).catch(() => undefined);
      id = (r?.body?.progress as { artifact?: { id?: string } } | undefined)?.artifact?.id;
      if (id || !r || r.status !== 200 || r.body.state === 'completed' || r.body.state === 'failed') break;
      await new Promise((res) => setTimeout(res, pause));
    }
    if (!id || !/^[0-9a-f]{24}$/.test(id)) return undefined;
    // Each chunk written at once (ops/durable.ts): no buffers held for the thread pool.
    const out = new DirectFileStream(tmp, { mode: 0o666 });
    const hash = createHash('sha256');
    const u = new URL(`${url}/api/artifacts/${id}?follow=1`);
    const mod = u.protocol === 'https:' ? https : http;
    return new Promise<string | undefined>((resolve) => {
      const fail = () => {
        out.destroy();
        resolve(undefined);
      };
      const req = mod.request(u, { method: 'GET', agent: u.protocol === 'https:' ? agents.https : agents.http, signal, headers: { authorization: `Bearer ${token}` } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return fail();
        }
        res.on('data', (c: Buffer) => hash.update(c));
        res.on('error', fail);
        res.on('aborted', fail);
        res.pipe(out);
        out.on('finish', () => (res.complete ? resolve(hash.digest('hex')) : resolve(undefined)));
        out.on('error', fail);
      });
      req.on('error', fail);
      req.end();
    });
  })().catch(() => undefined);
  return {
    async settle(sha256: string | undefined): Promise<boolean> {
      stopped = true;
      const got = await run;
      if (got && sha256 && got === sha256) {
        await rename(tmp, target);
        return true;
      }
      await rm(tmp, { force: true });
      return false;
    },
  };
}
