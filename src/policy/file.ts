import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { yamlWhere as where } from '../yaml-where.js';
import { z } from 'zod';
import type { JobSpec } from '../commands/index.js';
import { PolicyError } from '../errors.js';
import { ROLES, globMatch, requiredRole, roleAllows, specTargets, type Role } from './roles.js';
import { slackReason, type UsergroupResolver } from './usergroups.js';

const names = z.array(z.string().min(1)).optional();
/** A user group by ID (S0123ABC, from the group's page → ⋯ → Copy group ID) or by handle (@oncall). */
const usergroups = z.array(z.string().regex(/^(S[A-Z0-9]+|@?[a-z0-9][a-z0-9._-]*)$/, 'a Slack user group ID (S0123ABC) or handle (@oncall)')).optional();

/** One grant: who (any of the listed subjects), which role, and optionally where and on what. */
export const Grant = z
  .object({
    slack_users: names,
    slack_channels: names,
    slack_usergroups: usergroups,
    api_tokens: names,
    role: z.enum(ROLES as [Role, ...Role[]]),
    hosts: z.array(z.string()).default(['*']),
    images: z.array(z.string()).default(['*']),
    containers: z.array(z.string()).default(['*']),
  })
  .strict()
  .refine((g) => g.slack_users || g.slack_channels || g.slack_usergroups || g.api_tokens, { message: 'a grant needs slack_users, slack_channels, slack_usergroups or api_tokens' });
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

/** True when some grant names Slack user groups (their members are looked up with the bot token). */
export function usesUsergroups(file: PolicyFile | undefined): boolean {
  return Boolean(file?.grants.some((g) => g.slack_usergroups?.length));
}

/**
 * Who may run what. Without a policy file, API tokens are admins and Slack gets `slackDefault`.
 * Grants by user group are looked at only when no grant of the user or channel allows the
 * request; a group whose members cannot be looked up does not match (deny), and a refusal says so.
 */
export class Permissions {
  constructor(
    private file: PolicyFile | undefined,
    private slackDefault: Role,
    private usergroups?: UsergroupResolver,
  ) {}

  private directGrants(s: Subject): Grant[] {
    if (!this.file) {
      return [{ role: s.door === 'slack' ? this.slackDefault : 'admin', hosts: ['*'], images: ['*'], containers: ['*'] } as Grant];
    }
    return this.file.grants.filter((g) =>
      s.door === 'slack' ? g.slack_users?.includes(s.user) || g.slack_channels?.includes(s.channel) : g.api_tokens?.includes(s.token),
    );
  }

  /** Grants that reach a Slack user through a group, and the groups that could not be looked up. */
  private async groupGrants(user: string, skip: Grant[]): Promise<{ grants: Grant[]; unresolved: string[] }> {
    const candidates = (this.file?.grants ?? []).filter((g) => g.slack_usergroups?.length && !skip.includes(g));
    const groups = [...new Set(candidates.flatMap((g) => g.slack_usergroups ?? []))];
    const member = new Map<string, boolean>();
    const unresolved: string[] = [];
    await Promise.all(
      groups.map(async (group) => {
        if (!this.usergroups) {
          unresolved.push(`${group} (no SLACK_BOT_TOKEN to look it up)`);
          return;
        }
        try {
          member.set(group, (await this.usergroups.membersOf(group)).has(user));
        } catch (err) {
          unresolved.push(`${group} (Slack said: ${slackReason(err)})`);
        }
      }),
    );
    return { grants: candidates.filter((g) => g.slack_usergroups?.some((x) => member.get(x))), unresolved: unresolved.sort() };
  }

  /** Refuses with a PolicyError saying what was missing; returns the role that allowed it. */
  async authorize(s: Subject, spec: JobSpec, host: string): Promise<Role> {
    const { images, containers } = specTargets(spec);
    const allows = (g: Grant) =>
      roleAllows(g.role, spec.kind) &&
      g.hosts.some((p) => globMatch(p, host)) &&
      images.every((i) => g.images.some((p) => globMatch(p, i))) &&
      containers.every((c) => g.containers.some((p) => globMatch(p, c)));
    let grants = this.directGrants(s);
    const direct = grants.find(allows);
    if (direct) return direct.role;
    let unresolved: string[] = [];
    if (s.door === 'slack' && usesUsergroups(this.file)) {
      const viaGroups = await this.groupGrants(s.user, grants);
      const found = viaGroups.grants.find(allows);
      if (found) return found.role;
      grants = [...grants, ...viaGroups.grants];
      unresolved = viaGroups.unresolved;
    }
    const who = s.door === 'slack' ? `<@${s.user}>` : `token "${s.token}"`;
    const unchecked = unresolved.length ? `; could not check membership of Slack user group ${unresolved.join(', ')}, so its grants were not applied` : '';
    if (!grants.length) throw new PolicyError(`refused by policy: ${who} has no grant in the policy file (DOCKOPS_POLICY_FILE)${unchecked}`);
    const need = requiredRole(spec.kind);
    const best = grants.map((g) => g.role).sort((a, b) => ROLES.indexOf(b) - ROLES.indexOf(a))[0];
    if (!grants.some((g) => roleAllows(g.role, spec.kind))) {
      throw new PolicyError(`refused by policy: ${spec.kind.replace('.', ' ')} needs the ${need} role; ${who} is ${best}${unchecked}`);
    }
    throw new PolicyError(`refused by policy: ${who} may not run this on host "${host}"${images.length ? ` with ${images.join(', ')}` : ''}${containers.length ? ` on ${containers.join(', ')}` : ''} (see the hosts/images/containers of their grants)${unchecked}`);
  }
}
