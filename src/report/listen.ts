import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueName, type JobQueues } from '../jobs/queue.js';

export interface JobEventHandlers {
  active?: (jobId: string) => void;
  progress?: (jobId: string, data: unknown) => void;
  /** A job finished, completed or failed: the handler reads its state. */
  finished?: (jobId: string) => void;
  /** A job was added to a queue. */
  added?: (jobId: string) => void;
  /** A job was removed (cancelled while queued, superseded): its data is gone. */
  removed?: (jobId: string) => void;
}

/**
 * Listens to the job events of every host's queue, each on a connection of its own (QueueEvents
 * blocks on it). Readiness is not awaited: with Redis away at start-up the doors still come up.
 * Events are read from a second before start-up on, not from "now when connected": a door can
 * take a job before its listener is ready, and that job's events must not be missed (the
 * handlers claim each job in Redis, so an event seen twice does nothing twice).
 */
export function listenToJobEvents(jobs: JobQueues, redis: Redis, on: JobEventHandlers) {
  const listeners: QueueEvents[] = [];
  const conns: Redis[] = [];
  const since = `${Date.now() - 1000}-0`;
  for (const host of jobs.hosts) {
    const conn = redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
    conn.on('error', () => undefined);
    conns.push(conn);
    const ev = new QueueEvents(queueName(host), { connection: conn, prefix: jobs.prefix, lastEventId: since });
    ev.on('error', () => undefined);
    if (on.finished) {
      const finished = on.finished;
      ev.on('completed', ({ jobId }) => finished(jobId));
      ev.on('failed', ({ jobId }) => finished(jobId));
    }
    if (on.active) {
      const active = on.active;
      ev.on('active', ({ jobId }) => active(jobId));
    }
    if (on.added) {
      const added = on.added;
      ev.on('added', ({ jobId }) => added(jobId));
    }
    if (on.removed) {
      const removed = on.removed;
      ev.on('removed', ({ jobId }) => removed(jobId));
    }
    if (on.progress) {
      const progress = on.progress;
      ev.on('progress', ({ jobId, data }) => progress(jobId, data));
    }
    listeners.push(ev);
  }
  void Promise.all(listeners.map((l) => l.waitUntilReady())).catch(() => undefined);
  return {
    async close() {
      await Promise.all(listeners.map((l) => l.close()));
      for (const c of conns) c.disconnect();
    },
  };
}
