import type { JobSpec } from '../commands/index.js';

export type Role = 'viewer' | 'operator' | 'admin';
export const ROLES: Role[] = ['viewer', 'operator', 'admin'];

/** Read-only verbs: what anyone allowed at all may run. */
const VIEWER = new Set([
  'system.info', 'system.version', 'system.df', 'system.events',
  'image.ls', 'image.inspect', 'image.history', 'image.search', 'search',
  'container.ls', 'container.logs', 'container.inspect', 'container.top', 'container.port', 'container.diff', 'container.wait', 'container.stats',
  'volume.ls', 'volume.inspect', 'network.ls', 'network.inspect',
  'backup.ls', 'backup.inspect', 'schedule.ls',
  'hosts',
  'builds.preview', 'builds.ls', 'builds.logs',
]);

/** Day-to-day operations that change state but delete nothing. */
const OPERATOR = new Set([
  'container.start', 'container.stop', 'container.restart', 'container.pause', 'container.unpause', 'container.kill',
  'container.run', 'container.create', 'container.exec', 'container.cp', 'container.export', 'container.rename', 'container.update', 'container.commit',
  'image.pull', 'image.push', 'image.build', 'image.tag', 'image.save', 'image.load', 'image.import',
  'volume.create', 'network.create', 'network.connect', 'network.disconnect',
  'volume.backup', 'backup.verify', 'schedule.run',
  // A build a push started, retried or cancelled from its Slack message.
  'autobuild',
]);

/** The least role that may run a kind. Anything not listed (removals, prunes, new verbs) is admin. */
export function requiredRole(kind: string): Role {
  if (VIEWER.has(kind)) return 'viewer';
  if (OPERATOR.has(kind)) return 'operator';
  return 'admin';
}

export function roleAllows(role: Role, kind: string): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(requiredRole(kind));
}

/** Names a spec acts on, by what they are: image references and container names. */
export function specTargets(spec: JobSpec): { images: string[]; containers: string[] } {
  const s = spec as Record<string, unknown>;
  const list = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const images = [...list(s.image), ...list(s.images), ...(spec.kind === 'image.tag' ? [...list(s.source), ...list(s.target)] : []), ...(spec.kind.startsWith('image.') ? list(s.repository) : [])];
  const containers = [...list(s.container), ...list(s.containers), ...list(s.volumesFrom), ...(spec.kind === 'container.run' || spec.kind === 'container.create' ? list(s.name) : [])];
  if (spec.kind === 'container.run' || spec.kind === 'container.create') {
    // `--pid/--ipc/--network container:X` reach into X as surely as acting on it does.
    const x = spec.extras ?? {};
    for (const mode of [x.PidMode, x.IpcMode, spec.network]) if (mode?.startsWith('container:')) containers.push(mode.slice('container:'.length));
  }
  const copy = s.copy as { container?: string } | undefined;
  if (copy?.container) containers.push(copy.container);
  return { images, containers };
}

/** `*` matches any run of characters; everything else is literal. */
export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}
