import { z } from 'zod';
import { goDurationNs } from '../commands/container/go-values.js';
import { readYamlDir } from '../yaml-where.js';

/** A branch or tag name, or a /regex/ whose groups feed {\1}…{\9}. */
const NameOrRegex = z.string().min(1).refine((s) => !s.startsWith('/') || (s.endsWith('/') && s.length > 2 && isRegex(s.slice(1, -1))), { message: 'a /regex/ that compiles' });

function isRegex(src: string): boolean {
  try {
    new RegExp(src);
    return true;
  } catch {
    return false;
  }
}

/** One Docker Hub-style build rule. */
export const BuildRule = z
  .object({
    type: z.enum(['branch', 'tag']),
    name: NameOrRegex,
    /** Docker tag template: {sourceref}, {\1}…{\9}, {sha}, {short_sha}. */
    tag: z.string().default('{sourceref}'),
    /** For tags like v1.2.3: also 1.2.3, 1.2, 1 and latest (a pre-release only its own tag). */
    semver: z.boolean().default(false),
    dockerfile: z.string().default('Dockerfile'),
    context: z.string().default('.'),
    build_args: z.record(z.string(), z.string()).default({}),
    target: z.string().optional(),
    labels: z.record(z.string(), z.string()).default({}),
    /** Build only when a changed file (over every commit of the push) matches one of these globs. */
    paths: z.array(z.string()).optional(),
    /**
     * After the push, recreate the containers labelled `dockops.redeploy=<image:tag>` (a label
     * without a tag means :latest) from the new image, one at a time, rolling back on failure.
     */
    redeploy: z.boolean().default(false),
    /**
     * How long a build of this rule may run (a Go duration: 90s, 30m, 1h30m), from its start to its
     * last push or redeploy; over it, it fails as timed out. Default DOCKOPS_BUILD_TIMEOUT_MS.
     */
    timeout: z
      .preprocess(
        // A bare number (YAML reads `timeout: 30` as one) gets the same words as any other bad value.
        (v) => (typeof v === 'number' ? String(v) : v),
        z.string().refine((s) => {
          const ns = goDurationNs(s);
          return typeof ns === 'number' && ns >= 1e9;
        }, 'a duration of at least 1s, such as 90s, 30m or 1h30m'),
      )
      .optional(),
  })
  .strict();
export type BuildRule = z.infer<typeof BuildRule>;

export const BuildRepo = z
  .object({
    repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'owner/name'),
    /** Where to fetch from; default: the push's repository clone URL. */
    source: z.string().optional(),
    image: z.string().min(1),
    push: z.boolean().default(true),
    host: z.string().optional(),
    slack_channel: z.string().optional(),
    rules: z.array(BuildRule).min(1),
  })
  .strict();
export type BuildRepo = z.infer<typeof BuildRepo>;

const JobsFile = z.object({ builds: z.array(BuildRepo).default([]) }).passthrough();

/** Reads every jobs/*.yml; an error names the file and line. */
export function loadBuildRules(dir: string): BuildRepo[] {
  const repos: BuildRepo[] = [];
  readYamlDir(dir, JobsFile, 'invalid build rules', (data) => repos.push(...data.builds));
  return repos;
}

/** A rule's timeout in ms (undefined: the worker's DOCKOPS_BUILD_TIMEOUT_MS). */
export function ruleTimeoutMs(rule: BuildRule): number | undefined {
  if (!rule.timeout) return undefined;
  const ns = goDurationNs(rule.timeout);
  return typeof ns === 'number' ? Math.round(ns / 1e6) : undefined;
}

/** The parts of a GitHub push event the rules read. */
export interface PushEvent {
  ref: string;
  after: string;
  deleted?: boolean;
  repository: { full_name: string; clone_url: string; html_url?: string; name?: string };
  commits?: Array<{ added?: string[]; modified?: string[]; removed?: string[] }>;
  head_commit?: { added?: string[]; modified?: string[]; removed?: string[] } | null;
}

export interface BuildPlan {
  repo: BuildRepo;
  rule: BuildRule;
  ruleIndex: number;
  sourceref: string;
  sha: string;
  tags: string[];
  /** git URL of the exact commit and context directory. */
  context: string;
}

/** `**` any depth, `*` within a segment, `?` one character. */
export function pathGlob(glob: string, file: string): boolean {
  const re = glob
    .split('**')
    .map((part) => part.split('*').map((p) => p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\?/g, '[^/]')).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${re}$`).test(file);
}

/** Stand-ins for the commit when it is not known (`builds preview` without --sha). */
const SHA_MARK = '\u0000sha\u0000';
const SHORT_MARK = '\u0000short_sha\u0000';

/**
 * The docker tags a rule gives for a ref: its template, and semver tags when asked. Without a
 * commit, `{sha}` and `{short_sha}` show as `<sha>` and `<short_sha>`.
 */
export function tagsFor(rule: BuildRule, sourceref: string, groups: string[], sha?: string): string[] {
  const fill = (t: string) =>
    t
      .replace(/\{sourceref\}/g, sourceref)
      .replace(/\{sha\}/g, sha ?? SHA_MARK)
      .replace(/\{short_sha\}/g, sha?.slice(0, 7) ?? SHORT_MARK)
      .replace(/\{\\([1-9])\}/g, (_m, n: string) => groups[Number(n)] ?? '');
  const tags = [fill(rule.tag)];
  const m = rule.semver && rule.type === 'tag' ? /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(sourceref) : null;
  if (m) {
    const [, major, minor, patch, pre] = m;
    if (pre) tags.push(`${major}.${minor}.${patch}${pre}`);
    else tags.push(`${major}.${minor}.${patch}`, `${major}.${minor}`, major, 'latest');
  }
  // Docker tags: [A-Za-z0-9_.-], up to 128, not starting with . or -.
  const clean = (t: string) =>
    t
      .split(/(\u0000(?:short_)?sha\u0000)/)
      .map((part) => (part === SHA_MARK ? '<sha>' : part === SHORT_MARK ? '<short_sha>' : part.replace(/[^A-Za-z0-9_.-]/g, '-')))
      .join('')
      .replace(/^[.-]+/, '')
      .slice(0, 128);
  return [...new Set(tags.map(clean).filter(Boolean))];
}

/** Which rules a push matches, with their tags; deleted refs and unmatched paths build nothing. */
export function matchPush(repos: BuildRepo[], ev: PushEvent): BuildPlan[] {
  if (ev.deleted || /^0+$/.test(ev.after)) return [];
  const changed = new Set<string>();
  for (const c of [...(ev.commits ?? []), ...(ev.head_commit ? [ev.head_commit] : [])]) for (const f of [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]) changed.add(f);
  return plansFor(repos, ev.repository.full_name, ev.repository.clone_url, ev.ref, ev.after, changed);
}

/**
 * What a ref of a repository would build (`builds preview`): `main` is tried as a branch and as
 * a tag, `refs/heads/…` and `refs/tags/…` as given. Path filters are not applied (no push says
 * which files changed): each plan carries its rule, whose `paths` the caller shows.
 */
export function previewRef(repos: BuildRepo[], repository: string, ref: string, sha?: string): BuildPlan[] {
  const refs = ref.startsWith('refs/') ? [ref] : [`refs/heads/${ref}`, `refs/tags/${ref}`];
  const repo = repos.find((r) => r.repository.toLowerCase() === repository.toLowerCase());
  const clone = repo?.source ?? `https://github.com/${repository}.git`;
  return refs.flatMap((r) => plansFor(repos, repository, clone, r, sha, undefined));
}

/** Plans for a ref; `changed` undefined: path filters are not applied. */
function plansFor(repos: BuildRepo[], fullName: string, cloneUrl: string, ref: string, sha: string | undefined, changed: Set<string> | undefined): BuildPlan[] {
  const type = ref.startsWith('refs/heads/') ? 'branch' : ref.startsWith('refs/tags/') ? 'tag' : undefined;
  if (!type) return [];
  const sourceref = ref.replace(/^refs\/(heads|tags)\//, '');
  const plans: BuildPlan[] = [];
  for (const repo of repos) {
    if (repo.repository.toLowerCase() !== fullName.toLowerCase()) continue;
    repo.rules.forEach((rule, ruleIndex) => {
      if (rule.type !== type) return;
      let groups: string[] = [sourceref];
      if (rule.name.startsWith('/')) {
        const m = new RegExp(rule.name.slice(1, -1)).exec(sourceref);
        if (!m || m[0] !== sourceref) return;
        groups = [...m];
      } else if (rule.name !== sourceref) return;
      if (changed && rule.paths && ![...changed].some((f) => rule.paths!.some((g) => pathGlob(g, f)))) return;
      const base = repo.source ?? cloneUrl;
      const dir = rule.context.replace(/^\.\/?/, '').replace(/\/$/, '');
      plans.push({
        repo,
        rule,
        ruleIndex,
        sourceref,
        sha: sha ?? '',
        tags: tagsFor(rule, sourceref, groups, sha).map((t) => `${repo.image}:${t}`),
        context: `${base}#${sha ?? sourceref}${dir ? `:${dir}` : ''}`,
      });
    });
  }
  return plans;
}
