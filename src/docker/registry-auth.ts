import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What dockerode sends as X-Registry-Auth for one registry. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  serveraddress: string;
}

/** Docker Hub's key in config.json, as `docker login` writes it. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** The short name docker gives Docker Hub, and the hosts that all mean it. */
export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_HOSTS = ['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'];

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** The host part of a config.json `auths` key: `https://localhost:5000/v1/` is `localhost:5000`. */
export function authKeyHost(key: string): string {
  let k = key.trim().replace(/^[a-z]+:\/\//i, '');
  const slash = k.indexOf('/');
  if (slash >= 0) k = k.slice(0, slash);
  k = k.toLowerCase();
  if (DOCKER_HUB_HOSTS.includes(k)) return DOCKER_HUB;
  return k;
}

/** The directory of the server's docker client config: DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(homedir(), '.docker');
}

/**
 * The credentials the SERVER's docker config holds for a registry host (`docker.io`,
 * `localhost:5000`), as the docker CLI reads them from `auths` (base64 `user:pass` in `auth`).
 * Credential helpers (credsStore, credHelpers) are not consulted. Nothing found: undefined.
 * The answer goes to the engine only; it must never reach job data or logs.
 */
export function registryAuth(host: string, env: NodeJS.ProcessEnv = process.env): RegistryAuth | undefined {
  let raw: string;
  try {
    raw = readFileSync(join(dockerConfigDir(env), 'config.json'), 'utf8');
  } catch {
    return undefined;
  }
  let cfg: { auths?: Record<string, AuthEntry> };
  try {
    cfg = JSON.parse(raw) as typeof cfg;
  } catch {
    return undefined;
  }
  const want = authKeyHost(host);
  const entries = Object.entries(cfg.auths ?? {});
  const found = entries.find(([k]) => k === host) ?? entries.find(([k]) => authKeyHost(k) === want);
  if (!found) return undefined;
  const [key, e] = found;
  const out: RegistryAuth = { serveraddress: want === 'docker.io' ? DOCKER_HUB_KEY : key };
  if (e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    out.username = decoded.slice(0, colon);
    out.password = decoded.slice(colon + 1);
  } else {
    if (e.username) out.username = e.username;
    if (e.password) out.password = e.password;
  }
  if (e.identitytoken) out.identitytoken = e.identitytoken;
  if (e.registrytoken) out.registrytoken = e.registrytoken;
  if (!out.username && !out.password && !out.identitytoken && !out.registrytoken) return undefined;
  return out;
}
