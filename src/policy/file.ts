import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { yamlWhere as where } from '../yaml-where.js';
import { z } from 'zod';
import type { JobSpec } from '../commands/index.js';
import { PolicyError } from '../errors.js';
import { ROLES, globMatch, requiredRole, roleAllows, specTargets, type Role } from './roles.js';

const names = z.array(z.string().min(1)).optional();

/** One grant: who (any of the listed subjects), which role, and optionally where and on what. */
export const Grant = z
  .object({
    slack_users: names,
    slack_channels: names,
    api_tokens: names,
    role: z.enum(ROLES as [Role, ...Role[]]),
    hosts: z.array(z.string()).default(['*']),
    images: z.array(z.string()).default(['*']),
    containers: z.array(z.string()).default(['*']),
  })
  .strict()
  .refine((g) => g.slack_users || g.slack_channels || g.api_tokens, { message: 'a grant needs slack_users, slack_channels or api_tokens' });
export type Grant = z.infer<typeof Grant>;

export const PolicyFile = z.object({ grants: z.array(Grant).default([]) }).strict();
export type PolicyFile = z.infer<typeof PolicyFile>;

/** Who is asking, as each door knows them. */
export type Subject = { door: 'slack'; user: string; channel: string } | { door: 'api' | 'cli'; token: string };

/** Reads and checks a policy file; every error names the file and line. */
export function loadPolicyFile(file: string): PolicyFile {
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
  const parsed = PolicyFile.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${where(file, text, i.path as (string | number)[])}: ${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new Error(`invalid policy file:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** Who may run what. Without a policy file, API tokens are admins and Slack gets `slackDefault`. */
export class Permissions {
  constructor(
    private file: PolicyFile | undefined,
    private slackDefault: Role,
  ) {}

  private grantsFor(s: Subject): Grant[] {
    if (!this.file) {
      return [{ role: s.door === 'slack' ? this.slackDefault : 'admin', hosts: ['*'], images: ['*'], containers: ['*'] } as Grant];
    }
    return this.file.grants.filter((g) =>
      s.door === 'slack' ? g.slack_users?.includes(s.user) || g.slack_channels?.includes(s.channel) : g.api_tokens?.includes(s.token),
    );
  }

  /** Refuses with a PolicyError saying what was missing; returns the role that allowed it. */
  authorize(s: Subject, spec: JobSpec, host: string): Role {
    const grants = this.grantsFor(s);
    const who = s.door === 'slack' ? `<@${s.user}>` : `token "${s.token}"`;
    if (!grants.length) throw new PolicyError(`refused by policy: ${who} has no grant in the policy file (DOCKOPS_POLICY_FILE)`);
    const { images, containers } = specTargets(spec);
    const need = requiredRole(spec.kind);
    for (const g of grants) {
      if (!roleAllows(g.role, spec.kind)) continue;
      if (!g.hosts.some((p) => globMatch(p, host))) continue;
      if (!images.every((i) => g.images.some((p) => globMatch(p, i)))) continue;
      if (!containers.every((c) => g.containers.some((p) => globMatch(p, c)))) continue;
      return g.role;
    }
    const best = grants.map((g) => g.role).sort((a, b) => ROLES.indexOf(b) - ROLES.indexOf(a))[0];
    if (!grants.some((g) => roleAllows(g.role, spec.kind))) {
      throw new PolicyError(`refused by policy: ${spec.kind.replace('.', ' ')} needs the ${need} role; ${who} is ${best}`);
    }
    throw new PolicyError(`refused by policy: ${who} may not run this on host "${host}"${images.length ? ` with ${images.join(', ')}` : ''}${containers.length ? ` on ${containers.join(', ')}` : ''} (see the hosts/images/containers of their grants)`);
  }
}
