import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Bearer-token check in constant time: every configured token is compared (over their sha256,
 * so lengths never leak), and the request learns only yes or no.
 */
export function bearerAuth(tokens: Map<string, string>) {
  const known = [...tokens.entries()].map(([token, name]) => ({ d: digest(token), name }));
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) {
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized', message: 'missing bearer token: send "Authorization: Bearer <token>" (a token from DOCKOPS_API_TOKENS)' });
      return;
    }
    const given = digest(m[1]);
    let name: string | undefined;
    for (const k of known) if (timingSafeEqual(k.d, given)) name = k.name;
    if (!name) {
      res.status(401).set('WWW-Authenticate', 'Bearer error="invalid_token"').json({ error: 'unauthorized', message: 'invalid bearer token' });
      return;
    }
    res.locals.tokenName = name;
    next();
  };
}
