import { z } from 'zod';
import { defineCommand, ok } from '../define.js';
import { DockopsError } from '../../errors.js';
import { previewRef } from '../../builds/rules.js';
import { formatRows } from '../../render/table.js';

export const BuildsPreviewSpec = z.object({
  kind: z.literal('builds.preview'),
  repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
  /** `main`, `v1.2.3`, `refs/heads/main` or `refs/tags/v1.2.3`. */
  ref: z.string().min(1).max(255),
  sha: z.string().regex(/^[0-9a-f]{40}$/).optional(),
  format: z.string().optional(),
});
export type BuildsPreviewSpec = z.infer<typeof BuildsPreviewSpec>;

const DEFAULT_FORMAT = 'table {{.Rule}}\t{{.Source}}\t{{.Tags}}\t{{.Context}}\t{{.Push}}\t{{.Redeploy}}\t{{.Paths}}';
const HEADERS = { Rule: 'RULE', Source: 'SOURCE', Tags: 'TAGS', Context: 'CONTEXT', Push: 'PUSH', Redeploy: 'REDEPLOY', Paths: 'PATHS', Host: 'HOST', Slack: 'SLACK', Image: 'IMAGE', Timeout: 'TIMEOUT' };

/** Which build rule a ref matches and which tags it would push, without building anything. */
export const buildsPreview = defineCommand({
  path: ['builds', 'preview'],
  usage: '[OPTIONS] OWNER/REPO REF',
  summary: 'Show which build rule a branch or tag matches and the tags it would push (builds nothing)',
  args: { min: 2, max: 2 },
  flags: [
    { name: 'sha', type: 'string', valueName: 'string', help: 'Commit to fill {sha} and {short_sha} with (default: shown as <sha>)' },
    { name: 'format', type: 'string', valueName: 'string', help: 'Format output using a custom template' },
  ],
  spec: BuildsPreviewSpec,
  toSpec(p) {
    const [repository, ref] = p.args;
    if (!/^[\w.-]+\/[\w.-]+$/.test(repository)) throw new DockopsError(`"${repository}" is not OWNER/REPO`, 'usage', 1);
    const sha = (p.flags.sha as string) || undefined;
    if (sha && !/^[0-9a-f]{40}$/.test(sha)) throw new DockopsError(`--sha ${sha}: give the full 40-character commit ID`, 'usage', 1);
    return { kind: 'builds.preview' as const, repository, ref, sha, format: (p.flags.format as string) || undefined };
  },
  async run(spec, ctx) {
    const rules = ctx.builds.rules;
    const repo = rules.find((r) => r.repository.toLowerCase() === spec.repository.toLowerCase());
    if (!repo) {
      const known = rules.map((r) => r.repository).join(', ') || 'none';
      throw new DockopsError(`Error: no build rules for ${spec.repository} (repositories with rules: ${known})`, 'not_found', 1);
    }
    const plans = previewRef(rules, spec.repository, spec.ref, spec.sha);
    if (!plans.length) {
      const listed = repo.rules.map((r, i) => `${i + 1}: ${r.type} ${r.name}`).join('; ');
      throw new DockopsError(`Error: no build rule of ${repo.repository} matches ${spec.ref} (its rules: ${listed}); a push of it builds nothing`, 'not_found', 1);
    }
    const rows = plans.map((p) => ({
      Rule: String(p.ruleIndex + 1),
      Source: `${p.rule.type} ${p.rule.name}`,
      Tags: p.tags.join(', '),
      Image: p.repo.image,
      Context: `${p.rule.context}${p.rule.dockerfile !== 'Dockerfile' ? ` (-f ${p.rule.dockerfile})` : ''}`,
      Push: p.repo.push ? 'yes' : 'no',
      Redeploy: p.rule.redeploy ? 'yes' : 'no',
      Paths: p.rule.paths?.join(', ') ?? '*',
      Host: p.repo.host ?? 'default',
      Slack: p.repo.slack_channel ?? '',
      Timeout: p.rule.timeout ?? 'default',
    }));
    let text = '';
    if (!spec.format) {
      const commit = spec.sha ? ` at ${spec.sha.slice(0, 7)}` : '';
      const where = [`host ${repo.host ?? 'default'}`, repo.slack_channel ? `Slack ${repo.slack_channel}` : undefined].filter(Boolean).join(', ');
      text = `A push of ${spec.ref}${commit} to ${repo.repository} would build ${plans.length === 1 ? '1 image' : `${plans.length} images`} (${where}):\n`;
      if (plans.some((p) => p.rule.paths)) text += 'Rules with PATHS build only when a changed file matches.\n';
    }
    text += formatRows(rows, { format: spec.format, defaultFormat: DEFAULT_FORMAT, headers: HEADERS });
    return ok(text, {
      repository: repo.repository,
      ref: spec.ref,
      plans: plans.map((p) => ({ rule: p.ruleIndex + 1, type: p.rule.type, name: p.rule.name, sourceref: p.sourceref, tags: p.tags, dockerfile: p.rule.dockerfile, context: p.rule.context, push: p.repo.push, redeploy: p.rule.redeploy, paths: p.rule.paths, host: p.repo.host, slackChannel: p.repo.slack_channel, timeout: p.rule.timeout })),
    });
  },
});
