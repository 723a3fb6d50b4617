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
    // Escaping lengthens the text (& → &amp;): the limit is on what Slack receives.
    for (let over = escapeMrkdwn(piece).length - limit; over > 0; over = escapeMrkdwn(piece).length - limit) piece = piece.slice(0, piece.length - over);
    if (rest.length > piece.length) {
      const nl = piece.lastIndexOf('\n');
      if (nl > limit / 2) piece = piece.slice(0, nl + 1);
    }
    rest = rest.slice(piece.length);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '```' + escapeMrkdwn(piece.replace(/\n$/, '')) + '```' } });
  }
  return { blocks, cut: rest.length > 0 };
}

/** The end of the text in sections, whole lines first dropped from the front until it fits. */
function tailSections(text: string, room: number): { blocks: Block[]; cut: boolean } {
  const all = codeSections(text, room);
  if (!all.cut) return all;
  let t = text.slice(-room * (SECTION_MAX - 8));
  for (;;) {
    const nl = t.indexOf('\n');
    if (nl >= 0 && nl < t.length - 1 && nl < 2000) t = t.slice(nl + 1);
    const s = codeSections(t, room);
    if (!s.cut) return { blocks: s.blocks, cut: true };
    t = t.slice(Math.max(1, Math.floor(t.length / 10)));
  }
}

export interface JobMessageOptions {
  /**
   * The whole output is (being) uploaded as a file into the message's thread: show the end of the
   * output rather than its beginning, and say where the rest is.
   */
  fileInThread?: string;
}

/**
 * A finished job as a Slack message: the command and its outcome in a context line, stdout and
 * stderr as code blocks within Slack's limits, and a link to the whole log when it does not fit.
 */
export function jobMessage(v: SlackJobView, output: { stdout: string; stderr: string }, opts: JobMessageOptions = {}): { text: string; blocks: Block[]; cut: boolean } {
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
  const sections = opts.fileInThread ? tailSections : codeSections;
  if (stdout) {
    const s = sections(stdout, Math.ceil(room * (stderr ? 0.7 : 1)));
    blocks.push(...s.blocks);
    cut ||= s.cut;
  }
  if (stderr) {
    const s = sections(stderr, room - (blocks.length - 1));
    blocks.push(...s.blocks);
    cut ||= s.cut;
  }
  if (!stdout && !stderr && v.state !== 'failed' && !files) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: '_no output_' }] });
  if (files) blocks.push(files);
  const log = `Whole log: <${v.logUrl}|job ${escapeMrkdwn(v.id)}>`;
  if (cut && opts.fileInThread) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Showing the end of the output; all of it is in the thread as ${escapeMrkdwn(opts.fileInThread)}. ${log}` }] });
  else if (cut) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Output cut to fit Slack. ${log}` }] });
  return { text: `docker ${v.command}: ${status}`, blocks, cut };
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

/** A job's progress (layers, steps, bytes, a backup's rate) as lines of text: Slack and the job page draw it. */
export function progressLines(progress: unknown): string[] {
  const p = { ...((progress && typeof progress === 'object' ? progress : {}) as object) } as {
    layers?: Record<string, { status: string; current?: number; total?: number }>;
    step?: number;
    of?: number;
    bytes?: number;
    phase?: string;
    volume?: string;
    written?: number;
    rate?: number;
    total?: number;
    etaSeconds?: number;
  };
  const lines: string[] = [];
  // A volume backup: bytes read and written, the rate, and an ETA from the volume's previous backup.
  if (p.phase === 'backup' && p.volume) {
    const of = p.total ? ` of about ${bytes(p.total)}` : '';
    const eta = p.etaSeconds !== undefined ? ` · about ${p.etaSeconds} s left` : '';
    lines.push(`${p.volume}: ${bytes(p.bytes ?? 0)}${of} read, ${bytes(p.written ?? 0)} written · ${bytes(p.rate ?? 0)}/s${eta}`);
    p.bytes = undefined;
  }
  if (p.step && p.of) lines.push(`step ${p.step} of ${p.of}`);
  for (const [id, l] of Object.entries(p.layers ?? {}).slice(0, 20)) {
    const amount = l.total ? ` ${bytes(l.current ?? 0)}/${bytes(l.total)}` : '';
    lines.push(`${id}: ${l.status}${amount}`);
  }
  if (p.bytes) lines.push(`${bytes(p.bytes)} so far`);
  return lines;
}

/**
 * A running job as a Slack message: what it is doing now (layers with bytes, build step k of n)
 * and the last lines of its output.
 */
export function progressMessage(v: { command: string; id: string; host: string; elapsedMs: number }, progress: unknown, tail: string): { text: string; blocks: Block[] } {
  const lines = progressLines(progress);
  const summary = `:hourglass_flowing_sand: \`docker ${escapeMrkdwn(v.command)}\` on ${escapeMrkdwn(v.host)} · running ${(v.elapsedMs / 1000).toFixed(0)} s · job ${escapeMrkdwn(v.id)}`;
  const blocks: Block[] = [{ type: 'context', elements: [{ type: 'mrkdwn', text: summary }] }];
  const body = [lines.join('\n'), stripAnsi(tail).split('\n').slice(-15).join('\n')].filter((s) => s.trim()).join('\n\n');
  if (body) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '```' + escapeMrkdwn(body.slice(-(SECTION_MAX - 8))) + '```' } });
  return { text: `docker ${v.command}: running`, blocks };
}
