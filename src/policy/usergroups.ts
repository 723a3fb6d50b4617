import type { WebClient } from '@slack/web-api';

/** Who is in a Slack user group, for grants that name `slack_usergroups`. */
export interface UsergroupResolver {
  /** Member IDs of a group given by ID (S0123ABC) or handle (@oncall); rejects when Slack cannot say. */
  membersOf(group: string): Promise<Set<string>>;
}

/** How long a group's members are trusted: short, so removing someone from a group takes effect soon. */
export const USERGROUP_TTL_MS = 60_000;
/** A failed look-up is remembered briefly, so a broken scope does not spend Slack's rate limit on every request. */
export const USERGROUP_FAILURE_TTL_MS = 10_000;

const GROUP_ID = /^S[A-Z0-9]+$/;

interface Cached<T> {
  at: number;
  ttl: number;
  value: Promise<T>;
}

/**
 * Members of Slack user groups through the Web API (`usergroups.users.list`; a handle is first
 * turned into an ID with `usergroups.list`), each answer kept for `ttlMs` (a failure for at most
 * USERGROUP_FAILURE_TTL_MS). Needs a bot token with the usergroups:read scope.
 */
export class SlackUsergroups implements UsergroupResolver {
  private members = new Map<string, Cached<Set<string>>>();
  private handleMap = new Map<string, Cached<Map<string, string>>>();

  constructor(
    private web: WebClient,
    private ttlMs = USERGROUP_TTL_MS,
    private now: () => number = Date.now,
  ) {}

  async membersOf(group: string): Promise<Set<string>> {
    const id = GROUP_ID.test(group) ? group : await this.idOf(group);
    return this.cached(this.members, id, async () => {
      const res = await this.web.usergroups.users.list({ usergroup: id });
      return new Set(res.users ?? []);
    });
  }

  private async idOf(handle: string): Promise<string> {
    const name = handle.replace(/^@/, '');
    const handles = await this.cached(this.handleMap, '', async () => {
      const res = await this.web.usergroups.list({});
      return new Map((res.usergroups ?? []).map((g) => [g.handle ?? '', g.id ?? '']));
    });
    const id = handles.get(name);
    if (!id) throw new Error(`Slack has no user group with the handle @${name}`);
    return id;
  }

  private cached<T>(map: Map<string, Cached<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (hit && this.now() - hit.at <= hit.ttl) return hit.value;
    // Concurrent requests for one group share one call.
    const entry: Cached<T> = { at: this.now(), ttl: this.ttlMs, value: load() };
    map.set(key, entry);
    entry.value.catch(() => (entry.ttl = Math.min(this.ttlMs, USERGROUP_FAILURE_TTL_MS)));
    return entry.value;
  }
}

/** The Slack API's error code when there is one (`missing_scope`, `no_such_subteam`), else the message. */
export function slackReason(err: unknown): string {
  const e = err as { data?: { error?: string }; message?: string };
  return e?.data?.error ?? e?.message ?? String(err);
}
