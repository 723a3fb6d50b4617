import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** How long a confirmation button stays valid. */
export const CONFIRM_TTL_SECONDS = 10 * 60;

export interface PendingCommand {
  text: string;
  user: string;
  channel: string;
  team: string;
  host: string;
}

/** Keeps a destructive command until its button is clicked (or the confirmation expires). */
export async function holdForConfirmation(redis: Redis, prefix: string, p: PendingCommand): Promise<string> {
  const token = randomBytes(12).toString('hex');
  await redis.set(`${prefix}:slack-confirm:${token}`, JSON.stringify(p), 'EX', CONFIRM_TTL_SECONDS);
  return token;
}

/** Looks at a held command without using it up. */
export async function peekConfirmation(redis: Redis, prefix: string, token: string): Promise<PendingCommand | undefined> {
  if (!/^[0-9a-f]{24}$/.test(token)) return undefined;
  const raw = await redis.get(`${prefix}:slack-confirm:${token}`);
  return raw ? (JSON.parse(raw) as PendingCommand) : undefined;
}

/** Takes a held command once: a second click (or a replay) finds nothing. */
export async function takeConfirmation(redis: Redis, prefix: string, token: string): Promise<PendingCommand | undefined> {
  if (!/^[0-9a-f]{24}$/.test(token)) return undefined;
  const raw = await redis.getdel(`${prefix}:slack-confirm:${token}`);
  return raw ? (JSON.parse(raw) as PendingCommand) : undefined;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** "This deletes things: run it?" with a danger button behind Slack's own confirm dialog. */
export function confirmBlocks(text: string, token: string) {
  return [
    { type: 'section', text: { type: 'mrkdwn', text: `:warning: \`docker ${esc(text)}\` deletes or stops things. Run it?` } },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: 'dockops_confirm',
          style: 'danger',
          text: { type: 'plain_text', text: 'Run it' },
          value: token,
          confirm: {
            title: { type: 'plain_text', text: 'Are you sure?' },
            text: { type: 'mrkdwn', text: `\`docker ${esc(text)}\`` },
            confirm: { type: 'plain_text', text: 'Run it' },
            deny: { type: 'plain_text', text: 'Keep things' },
            style: 'danger',
          },
        },
        { type: 'button', action_id: 'dockops_dismiss', text: { type: 'plain_text', text: 'Cancel' }, value: token },
      ],
    },
  ];
}

/** A Cancel button for a queued or running job. */
export function cancelButton(jobId: string) {
  return { type: 'actions', elements: [{ type: 'button', action_id: 'dockops_cancel', text: { type: 'plain_text', text: 'Cancel' }, value: jobId }] };
}

/** A Retry button for a job that failed. */
export function retryButton(jobId: string) {
  return { type: 'actions', elements: [{ type: 'button', action_id: 'dockops_retry', text: { type: 'plain_text', text: 'Retry' }, value: jobId }] };
}
