import express, { type Express } from 'express';
import type Docker from 'dockerode';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface AppParts {
  redis: Redis;
  engines: Map<string, Docker>;
  log: Logger;
}

/** The express app every door mounts on, with health endpoints and request logging. */
export function createApp(parts: AppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use((req, res, next) => {
    const start = Date.now();
    res.on('finish', () => {
      if (req.path === '/healthz') return;
      parts.log.debug({ method: req.method, path: req.path, status: res.statusCode, ms: Date.now() - start }, 'http request');
    });
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  /** Ready when Redis and every configured engine answer. */
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    const timeout = <T>(p: Promise<T>) => Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), 2000))]);
    try {
      checks.redis = (await timeout(parts.redis.ping())) === 'PONG' ? 'ok' : 'no answer';
    } catch (err) {
      checks.redis = (err as Error).message;
    }
    await Promise.all(
      [...parts.engines.entries()].map(async ([name, d]) => {
        try {
          await timeout(d.ping());
          checks[`docker:${name}`] = 'ok';
        } catch (err) {
          checks[`docker:${name}`] = (err as Error).message;
        }
      }),
    );
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ ready, checks });
  });
  return app;
}
