import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The file in the artifact directory that holds the link key when DOCKOPS_LINK_SECRET is unset. */
export const SECRET_FILE = '.link-secret';

/**
 * The key that signs artifact links. A configured secret wins; otherwise one key is made once and
 * kept in the artifact directory (mode 0600), so every API process that shares the directory signs
 * and checks with the same key. Two processes starting at once both try to create it: the file is
 * written under a name of its own and hard-linked into place, which fails for all but the first,
 * and everyone then reads the winner's key (never a half-written one).
 */
export async function loadLinkSecret(configured: string | undefined, artifactDir: string): Promise<Buffer> {
  if (configured) return Buffer.from(configured, 'utf8');
  await mkdir(artifactDir, { recursive: true });
  const file = path.join(artifactDir, SECRET_FILE);
  const read = async () => {
    const hex = (await readFile(file, 'utf8')).trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${file} is not a link key (64 hex digits): remove it to make a new one, or set DOCKOPS_LINK_SECRET`);
    return Buffer.from(hex, 'hex');
  };
  try {
    return await read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = path.join(artifactDir, `${SECRET_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
  await writeFile(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  return read();
}

const JOB_PAGE = 'dockops-job-page:v1';

export interface SignedLink {
  url: string;
  /** Unix seconds after which the link answers 410. */
  expires: number;
  expiresAt: string;
}

export type LinkCheck = { ok: true } | { ok: false; why: 'expired' | 'invalid'; message: string };

/**
 * Links to one artifact that work without a token until they expire:
 * `/api/artifacts/ID?expires=UNIX&sig=HEX`, where sig is HMAC-SHA256 over the id and the expiry.
 * The clock is injected (`now`), as the Slack signature check does.
 */
export class ArtifactLinks {
  constructor(
    private readonly key: Buffer,
    readonly publicUrl: string,
    readonly defaultTtlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private mac(id: string, expires: number, purpose = 'dockops-artifact-link:v1'): Buffer {
    return createHmac('sha256', this.key).update(`${purpose}\n${id}\n${expires}`).digest();
  }

  /** HMAC with this key over any text, for other signed values (the web session cookie). */
  hmac(text: string): Buffer {
    return createHmac('sha256', this.key).update(text).digest();
  }

  /**
   * A link to job `id`'s page (`/jobs/ID?expires=UNIX&sig=HEX`) that shows the job without a login
   * until it expires. Signed as artifact links are, under another purpose, so neither kind of
   * signature opens the other.
   */
  signJobPage(id: string, ttlMs: number): SignedLink {
    const expires = Math.floor((this.now() + ttlMs) / 1000);
    const sig = this.mac(id, expires, JOB_PAGE).toString('hex');
    return { url: `${this.publicUrl.replace(/\/$/, '')}/jobs/${encodeURIComponent(id)}?expires=${expires}&sig=${sig}`, expires, expiresAt: new Date(expires * 1000).toISOString() };
  }

  /** Checks a job page link's query, as verify() does for artifacts. */
  verifyJobPage(id: string, expiresRaw: unknown, sigRaw: unknown): LinkCheck {
    return this.check(id, expiresRaw, sigRaw, JOB_PAGE, 'this job page link', `log in with an API token at /jobs/${id}, or ask for the job again`);
  }

  /** A link to artifact `id` valid for `ttlMs` (the configured default when not given). */
  sign(id: string, ttlMs = this.defaultTtlMs): SignedLink {
    const expires = Math.floor((this.now() + ttlMs) / 1000);
    const sig = this.mac(id, expires).toString('hex');
    return { url: `${this.publicUrl.replace(/\/$/, '')}/api/artifacts/${id}?expires=${expires}&sig=${sig}`, expires, expiresAt: new Date(expires * 1000).toISOString() };
  }

  /** Checks a link's query in constant time; an expired link is told apart from a forged one. */
  verify(id: string, expiresRaw: unknown, sigRaw: unknown): LinkCheck {
    return this.check(id, expiresRaw, sigRaw, 'dockops-artifact-link:v1', 'this artifact link', `ask for a fresh one (POST /api/artifacts/${id}/link with a token)`);
  }

  private check(id: string, expiresRaw: unknown, sigRaw: unknown, purpose: string, what: string, fix: string): LinkCheck {
    const invalid: LinkCheck = { ok: false, why: 'invalid', message: `${what} is not valid (its signature does not match): ask for a new one, or use a bearer token` };
    if (typeof expiresRaw !== 'string' || !/^\d{1,12}$/.test(expiresRaw) || typeof sigRaw !== 'string' || !/^[0-9a-f]{64}$/.test(sigRaw)) return invalid;
    const expires = Number(expiresRaw);
    if (!timingSafeEqual(this.mac(id, expires, purpose), Buffer.from(sigRaw, 'hex'))) return invalid;
    if (this.now() >= expires * 1000) {
      return { ok: false, why: 'expired', message: `${what} expired at ${new Date(expires * 1000).toISOString()}: ${fix}` };
    }
    return { ok: true };
  }
}
