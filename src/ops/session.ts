import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { ArtifactLinks } from '../artifacts/links.js';
import { escapeHtml, pageShell } from './html.js';

/** The web pages' session cookie: set by POST /login with an API token, HttpOnly, SameSite=Strict. */
export const SESSION_COOKIE = 'dockops_session';
/** A session lasts this long; then the pages ask for the token again. */
export const SESSION_TTL_MS = 12 * 3600_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * Who may see the web pages (job pages, Bull Board): a person holding one of the API tokens.
 * In a browser, POST /login with the token sets a session cookie signed with the link key, bound
 * to the token's name AND a hash of the token itself, so removing or rotating a token in
 * DOCKOPS_API_TOKENS ends its sessions. Scripts may send the token instead, as
 * `Authorization: Bearer TOKEN` or HTTP Basic with the token as password (any user name).
 */
export class WebAuth {
  private readonly known: Array<{ d: Buffer; name: string; token: string }>;

  constructor(
    tokens: Map<string, string>,
    private readonly links: ArtifactLinks,
    private readonly secure: boolean,
    private readonly now: () => number = Date.now,
  ) {
    this.known = [...tokens.entries()].map(([token, name]) => ({ d: sha256(token), name, token }));
  }

  /** The token's name when `token` is one of the API tokens (compared in constant time). */
  tokenName(token: string): string | undefined {
    const given = sha256(token);
    let name: string | undefined;
    for (const k of this.known) if (timingSafeEqual(k.d, given)) name = k.name;
    return name;
  }

  private sessionMac(name: string, expires: number, token: string): Buffer {
    return this.links.hmac(`dockops-session:v1\n${name}\n${expires}\n${sha256(token).toString('hex')}`);
  }

  /** A cookie value for the holder of `token` (known to be valid). */
  session(name: string): string {
    const k = this.known.find((x) => x.name === name);
    if (!k) throw new Error(`no token named ${name}`);
    const expires = Math.floor((this.now() + SESSION_TTL_MS) / 1000);
    return `${Buffer.from(name).toString('base64url')}.${expires}.${this.sessionMac(name, expires, k.token).toString('hex')}`;
  }

  /** The token name of a request's session cookie, bearer token or Basic password; undefined when none holds. */
  who(req: Request): string | undefined {
    const header = req.get('authorization') ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(header);
    if (bearer) return this.tokenName(bearer[1]);
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon >= 0 ? this.tokenName(decoded.slice(colon + 1)) : undefined;
    }
    const value = cookie(req, SESSION_COOKIE);
    if (!value) return undefined;
    const m = /^([A-Za-z0-9_-]+)\.(\d{1,12})\.([0-9a-f]{64})$/.exec(value);
    if (!m) return undefined;
    const name = Buffer.from(m[1], 'base64url').toString('utf8');
    const expires = Number(m[2]);
    const k = this.known.find((x) => x.name === name);
    if (!k) return undefined;
    if (!timingSafeEqual(this.sessionMac(name, expires, k.token), Buffer.from(m[3], 'hex'))) return undefined;
    if (this.now() >= expires * 1000) return undefined;
    return name;
  }

  cookieHeader(value: string, maxAgeS: number): string {
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${this.secure ? '; Secure' : ''}`;
  }

  /**
   * Express middleware for pages behind a login: a browser is sent to the login form, anything
   * else gets 401 with WWW-Authenticate Basic.
   */
  require() {
    return (req: Request, res: Response, next: (e?: unknown) => void) => {
      const name = this.who(req);
      if (name) {
        res.locals.tokenName = name;
        return next();
      }
      refuse(req, res, 401, 'Log in with an API token (one of DOCKOPS_API_TOKENS) to see this page.');
    };
  }

  /** GET /login (the form), POST /login (token → cookie → back to `next`), POST /logout. */
  router(): Router {
    const r = express.Router();
    r.get('/login', (req, res) => {
      sendPage(res, 200, loginPage(safeNext(req.query.next), ''));
    });
    r.post('/login', express.urlencoded({ extended: false, limit: 4096 }), (req, res) => {
      const body = (req.body ?? {}) as { token?: unknown; next?: unknown };
      const next = safeNext(body.next);
      const name = typeof body.token === 'string' ? this.tokenName(body.token.trim()) : undefined;
      if (!name) {
        sendPage(res, 401, loginPage(next, 'That is not one of the API tokens.'));
        return;
      }
      res.set('set-cookie', this.cookieHeader(this.session(name), SESSION_TTL_MS / 1000));
      res.redirect(303, next);
    });
    r.post('/logout', (_req, res) => {
      res.set('set-cookie', this.cookieHeader('', 0));
      res.redirect(303, '/login');
    });
    return r;
  }
}

/** A cookie's value from the request's Cookie header. */
export function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Only a path on this site: no scheme, no `//host`, no backslash tricks. */
export function safeNext(raw: unknown): string {
  const s = typeof raw === 'string' ? raw : '';
  return /^\/(?![/\\])[^\s\\]*$/.test(s) ? s : '/admin/queues';
}

/** Headers every web page of dockops carries: nothing cached, no referrer (links hold signatures), no framing. */
export function pageHeaders(res: Response, nonce?: string) {
  res.set({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': `default-src 'none'; ${nonce ? `script-src 'nonce-${nonce}'; ` : ''}style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  });
}

export function sendPage(res: Response, status: number, html: string, nonce?: string) {
  pageHeaders(res, nonce);
  res.status(status).send(html);
}

/** A refusal: for a browser, a page with the login form; for anything else, JSON. */
export function refuse(req: Request, res: Response, status: number, message: string) {
  // A browser gets the login form (a Basic challenge would hide it behind the browser's dialog).
  if (req.accepts(['json', 'html']) === 'html') {
    sendPage(res, status, loginPage(safeNext(req.originalUrl.replace(/[?#].*$/, '')), message));
    return;
  }
  if (status === 401) res.set('www-authenticate', 'Basic realm="dockops", charset="UTF-8"');
  res.status(status).json({ error: status === 401 ? 'unauthorized' : status === 410 ? 'link_expired' : 'forbidden', message });
}

function loginPage(next: string, message: string): string {
  return pageShell(
    'dockops: log in',
    `<h1>dockops</h1>
${message ? `<p class="err">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/login">
  <input type="hidden" name="next" value="${escapeHtml(next)}">
  <label>API token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
  <button type="submit">Log in</button>
</form>
<p class="note">A token from DOCKOPS_API_TOKENS. The session lasts ${SESSION_TTL_MS / 3600_000} hours, in an HttpOnly cookie of this site.</p>`,
  );
}
