import http from 'node:http';
import https from 'node:https';

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
