import Docker from 'dockerode';
import type { DockerHostConfig } from '../config.js';

/**
 * A dockerode client for a host URL. The API version is pinned to what Debian's engine speaks
 * (1.41) only when negotiation is impossible; dockerode talks the engine's default otherwise.
 */
export function dockerFor(url: string): Docker {
  if (url.startsWith('unix://')) return new Docker({ socketPath: url.slice('unix://'.length) });
  const u = new URL(url.replace(/^tcp:/, 'http:'));
  return new Docker({
    protocol: u.protocol === 'https:' ? 'https' : 'http',
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'https:' ? 2376 : 2375)),
  });
}

/** One client per configured host, made once. */
export function dockerClients(hosts: DockerHostConfig[]): Map<string, Docker> {
  return new Map(hosts.map((h) => [h.name, dockerFor(h.url)]));
}
