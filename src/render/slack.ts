import type { JobResult } from '../jobs/types.js';

/** Slack's limits: 3,000 characters in a section's text, 50 blocks in a message. */
export const SECTION_MAX = 3000;
export const BLOCKS_MAX = 50;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

/** Slack's mrkdwn needs &, < and > escaped; nothing else is interpreted inside a code block. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface SlackJobView {
  command: string;
  id: string;
  host: string;
  state: string;
  exitCode: number | null;
  result: JobResult | null;
  error: string | null;
  durationMs?: number;
  /** Where the whole log can be read when the message cannot hold it. */
  logUrl: string;
  /** Files the job made, each with a signed link that works without a token until it expires. */
  files?: Array<{ name: string; size: number; url: string; expiresAt: string }>;
}

type Block = Record<string, unknown>;

/** Splits text into code-block sections that fit Slack's limits, keeping whole lines where it can. */
function codeSections(text: string, room: number): { blocks: Block[]; cut: boolean } {
  const limit = SECTION_MAX - 8; // the ``` fences and newlines
  const blocks: Block[] = [];
  let rest = text;
  while (rest.length && blocks.length < room) {
    let piece = rest.slice(0, limit);
    if (rest.length > limit) {
      const nl = piece.lastIndexOf('\n');
      if (nl > limit / 2) piece = piece.slice(0, nl + 1);
    }
    rest = rest.slice(piece.length);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '```' + escapeMrkdwn(piece.replace(/\n$/, '')) + '```' } });
  }
  return { blocks, cut: rest.length > 0 };
}

/**
 * A finished job as a Slack message: the command and its outcome in a context line, stdout and
 * stderr as code blocks within Slack's limits, and a link to the whole log when it does not fit.
 */
export function jobMessage(v: SlackJobView, output: { stdout: string; stderr: string }): { text: string; blocks: Block[] } {
  const ok = v.state === 'completed' && v.exitCode === 0;
  const icon = ok ? ':white_check_mark:' : v.state === 'failed' ? ':x:' : ':warning:';
  const took = v.durationMs !== undefined ? ` · ${(v.durationMs / 1000).toFixed(1)} s` : '';
  const status = v.state === 'failed' ? `failed: ${v.error ?? 'unknown reason'}` : `exit ${v.exitCode}`;
  const summary = `${icon} \`docker ${escapeMrkdwn(v.command)}\` on ${escapeMrkdwn(v.host)} · ${escapeMrkdwn(status)}${took}`;
  const blocks: Block[] = [{ type: 'context', elements: [{ type: 'mrkdwn', text: summary }] }];
  const stdout = stripAnsi(output.stdout);
  const stderr = stripAnsi(output.stderr);
  let cut = Boolean(v.result?.truncated);
  const files = filesBlock(v.files ?? []);
  const room = BLOCKS_MAX - 3 - (files ? 1 : 0);
  if (stdout) {
    const s = codeSections(stdout, Math.ceil(room * (stderr ? 0.7 : 1)));
    blocks.push(...s.blocks);
    cut ||= s.cut;
  }
  if (stderr) {
    const s = codeSections(stderr, room - (blocks.length - 1));
    blocks.push(...s.blocks);
    cut ||= s.cut;
  }
  if (!stdout && !stderr && v.state !== 'failed' && !files) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: '_no output_' }] });
  if (files) blocks.push(files);
  if (cut) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Output cut to fit Slack. Whole log: <${v.logUrl}|job ${escapeMrkdwn(v.id)}>` }] });
  return { text: `docker ${v.command}: ${status}`, blocks };
}

/** Links to the job's files (save -o, export -o, cp), and until when they work. */
function filesBlock(files: NonNullable<SlackJobView['files']>): Block | undefined {
  if (!files.length) return undefined;
  // Inside <url|text> Slack reads &amp; back as & (its own messages spell links that way).
  const lines = files.slice(0, 10).map((f) => `:package: <${escapeMrkdwn(f.url)}|${escapeMrkdwn(f.name)}> (${bytes(f.size)})`);
  if (files.length > 10) lines.push(`and ${files.length - 10} more: see the job through the API`);
  const until = files[0].expiresAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  lines.push(`_links work without a token until ${until}_`);
  return { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, SECTION_MAX) } };
}

/** Decimal bytes as docker prints them in progress bars. */
function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}

/**
 * A running job as a Slack message: what it is doing now (layers with bytes, build step k of n)
 * and the last lines of its output.
 */
export function progressMessage(v: { command: string; id: string; host: string; elapsedMs: number }, progress: unknown, tail: string): { text: string; blocks: Block[] } {
  const p = (progress ?? {}) as { layers?: Record<string, { status: string; current?: number; total?: number }>; step?: number; of?: number; bytes?: number };
  const lines: string[] = [];
  if (p.step && p.of) lines.push(`step ${p.step} of ${p.of}`);
  for (const [id, l] of Object.entries(p.layers ?? {}).slice(0, 20)) {
    const amount = l.total ? ` ${bytes(l.current ?? 0)}/${bytes(l.total)}` : '';
    lines.push(`${id}: ${l.status}${amount}`);
  }
  if (p.bytes) lines.push(`${bytes(p.bytes)} so far`);
  const summary = `:hourglass_flowing_sand: \`docker ${escapeMrkdwn(v.command)}\` on ${escapeMrkdwn(v.host)} · running ${(v.elapsedMs / 1000).toFixed(0)} s · job ${escapeMrkdwn(v.id)}`;
  const blocks: Block[] = [{ type: 'context', elements: [{ type: 'mrkdwn', text: summary }] }];
  const body = [lines.join('\n'), stripAnsi(tail).split('\n').slice(-15).join('\n')].filter((s) => s.trim()).join('\n\n');
  if (body) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '```' + escapeMrkdwn(body.slice(-(SECTION_MAX - 8))) + '```' } });
  return { text: `docker ${v.command}: running`, blocks };
}
