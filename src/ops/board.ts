import type { Router } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { JobQueues } from '../jobs/queue.js';

export const BOARD_PATH = '/admin/queues';

/**
 * Bull Board over every host's queue, read-only: a docker command is never retried, promoted or
 * removed behind the policy's back (retrying `run` would make a second container). Mounted behind
 * the web login (session cookie, bearer token or Basic with an API token as password).
 */
export function boardRouter(jobs: JobQueues): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: jobs.hosts.map((h) => new BullMQAdapter(jobs.queue(h), { readOnlyMode: true, displayName: `host ${h}` })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'dockops' } },
  });
  return serverAdapter.getRouter() as Router;
}
