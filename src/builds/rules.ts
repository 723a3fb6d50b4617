import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { yamlWhere } from '../yaml-where.js';

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
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch {
    return [];
  }
  const repos: BuildRepo[] = [];
  const problems: string[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    const text = readFileSync(file, 'utf8');
    const doc = parseDocument(text);
    if (doc.errors.length) {
      problems.push(`  ${file}: ${doc.errors[0].message}`);
      continue;
    }
    const parsed = JobsFile.safeParse(doc.toJS() ?? {});
    if (!parsed.success) {
      for (const i of parsed.error.issues) problems.push(`  ${yamlWhere(file, text, i.path as (string | number)[])}: ${i.path.join('.')}: ${i.message}`);
      continue;
    }
    repos.push(...parsed.data.builds);
  }
  if (problems.length) throw new Error(`invalid build rules:\n${problems.join('\n')}`);
  return repos;
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

/** The docker tags a rule gives for a ref: its template, and semver tags when asked. */
export function tagsFor(rule: BuildRule, sourceref: string, groups: string[], sha: string): string[] {
  const fill = (t: string) =>
    t
      .replace(/\{sourceref\}/g, sourceref)
      .replace(/\{sha\}/g, sha)
      .replace(/\{short_sha\}/g, sha.slice(0, 7))
      .replace(/\{\\([1-9])\}/g, (_m, n: string) => groups[Number(n)] ?? '');
  const tags = [fill(rule.tag)];
  const m = rule.semver && rule.type === 'tag' ? /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(sourceref) : null;
  if (m) {
    const [, major, minor, patch, pre] = m;
    if (pre) tags.push(`${major}.${minor}.${patch}${pre}`);
    else tags.push(`${major}.${minor}.${patch}`, `${major}.${minor}`, major, 'latest');
  }
  // Docker tags: [A-Za-z0-9_.-], up to 128, not starting with . or -.
  return [...new Set(tags.map((t) => t.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[.-]+/, '').slice(0, 128)).filter(Boolean))];
}

/** Which rules a push matches, with their tags; deleted refs and unmatched paths build nothing. */
export function matchPush(repos: BuildRepo[], ev: PushEvent): BuildPlan[] {
  if (ev.deleted || /^0+$/.test(ev.after)) return [];
  const type = ev.ref.startsWith('refs/heads/') ? 'branch' : ev.ref.startsWith('refs/tags/') ? 'tag' : undefined;
  if (!type) return [];
  const sourceref = ev.ref.replace(/^refs\/(heads|tags)\//, '');
  const changed = new Set<string>();
  for (const c of [...(ev.commits ?? []), ...(ev.head_commit ? [ev.head_commit] : [])]) for (const f of [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]) changed.add(f);
  const plans: BuildPlan[] = [];
  for (const repo of repos) {
    if (repo.repository.toLowerCase() !== ev.repository.full_name.toLowerCase()) continue;
    repo.rules.forEach((rule, ruleIndex) => {
      if (rule.type !== type) return;
      let groups: string[] = [sourceref];
      if (rule.name.startsWith('/')) {
        const m = new RegExp(rule.name.slice(1, -1)).exec(sourceref);
        if (!m || m[0] !== sourceref) return;
        groups = [...m];
      } else if (rule.name !== sourceref) return;
      if (rule.paths && ![...changed].some((f) => rule.paths!.some((g) => pathGlob(g, f)))) return;
      const base = repo.source ?? ev.repository.clone_url;
      const dir = rule.context.replace(/^\.\/?/, '').replace(/\/$/, '');
      plans.push({
        repo,
        rule,
        ruleIndex,
        sourceref,
        sha: ev.after,
        tags: tagsFor(rule, sourceref, groups, ev.after).map((t) => `${repo.image}:${t}`),
        context: `${base}#${ev.after}${dir ? `:${dir}` : ''}`,
      });
    });
  }
  return plans;
}
