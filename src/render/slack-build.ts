import type { BuildView } from '../builds/view.js';
import { escapeMrkdwn, SECTION_MAX, stripAnsi } from './slack.js';

type Block = Record<string, unknown>;

/** Lines of the log a failed build's message shows. */
export const FAILED_TAIL_LINES = 30;

const TERMINAL = new Set(['pushed', 'built', 'failed', 'cancelled', 'superseded']);

export function isTerminal(v: BuildView): boolean {
  return TERMINAL.has(v.state);
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const code = (s: string) => `\`${escapeMrkdwn(s)}\``;

/** The last `n` lines of a log, ANSI stripped, cut from the front to fit one section. */
export function logTail(log: string, n: number): string {
  const lines = stripAnsi(log).replace(/\n$/, '').split('\n').slice(-n).join('\n');
  const room = SECTION_MAX - 8;
  return lines.length > room ? lines.slice(lines.length - room) : lines;
}

/** The one line that says where a build stands. */
function stateLine(v: BuildView): string {
  const took = v.startedAt && v.finishedAt ? ` · ${secs(v.finishedAt - v.startedAt)}` : '';
  switch (v.state) {
    case 'queued':
      return ':hourglass_flowing_sand: queued';
    case 'waiting':
      return `:hourglass_flowing_sand: queued: waiting for ${escapeMrkdwn(v.waitingFor ?? 'its turn')}`;
    case 'building':
      return `:building_construction: building${v.step ? `: step ${v.step.step} of ${v.step.of}` : ''}`;
    case 'pushing':
      return `:arrow_up: pushing ${code(v.pushing?.image ?? '')}${v.pushing && v.pushing.of > 1 ? ` (tag ${v.pushing.index} of ${v.pushing.of})` : ''}`;
    case 'redeploying':
      return ':arrows_counterclockwise: redeploying';
    case 'pushed':
      return `:white_check_mark: pushed ${v.tags.map(code).join(', ')}${v.digest ? ` · digest ${code(v.digest)}` : ''}${took}`;
    case 'built':
      return `:white_check_mark: built ${v.tags.map(code).join(', ')} (push is off for this repository)${took}`;
    case 'superseded':
      return `:fast_forward: superseded by ${code((v.supersededBy ?? '').slice(0, 7))}: a newer push to ${code(v.sourceref)} replaced this build`;
    case 'cancelled':
      return `:no_entry_sign: cancelled${took}`;
    case 'failed':
      return `:x: failed: ${escapeMrkdwn(v.reason ?? 'unknown reason')}${took}`;
  }
}

/**
 * One build's Slack message, as it stands: what is built (repository, ref, commit, tags), where
 * it is (queued → building step k of n → pushing → pushed with digest, or failed with the last
 * lines of its log and a link to all of it), and the buttons that fit: Cancel while it may still
 * be stopped, Retry once it failed or was cancelled. The buttons are the Slack door's own.
 */
export function buildMessage(v: BuildView, o: { logUrl: string; log?: string; cancel: Block; retry: Block }): { text: string; blocks: Block[] } {
  const title = `*${escapeMrkdwn(v.repository)}* ${code(v.sourceref)} @ ${code(v.sha.slice(0, 7))} → ${v.tags.map(code).join(' ')}`;
  const blocks: Block[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `${title}\n${stateLine(v)}` } },
  ];
  for (const c of v.redeploy?.containers ?? []) {
    const what = c.outcome === 'redeployed' ? ':white_check_mark: redeployed' : c.outcome === 'unchanged' ? 'already up to date:' : `:leftwards_arrow_with_hook: rolled back (${escapeMrkdwn(c.reason ?? '')}):`;
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${what} ${code(c.name)}` }] });
  }
  if (v.state === 'failed' && o.log) {
    const tail = logTail(o.log, FAILED_TAIL_LINES);
    if (tail.trim()) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '```' + escapeMrkdwn(tail) + '```' } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `job ${escapeMrkdwn(v.id)} on ${escapeMrkdwn(v.host)} · <${o.logUrl}|whole log>` }] });
  if (!isTerminal(v)) blocks.push(o.cancel);
  else if (v.state === 'failed' || v.state === 'cancelled') blocks.push(o.retry);
  return { text: `build ${v.repository}@${v.sourceref} (${v.sha.slice(0, 7)}): ${v.state}`, blocks };
}
