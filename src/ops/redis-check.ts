import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** What the start-up check found: warnings to act on, or why the settings could not be read. */
export interface RedisCheck {
  warnings: string[];
  /** Set when Redis refused CONFIG GET (a managed Redis often does): nothing could be checked. */
  unreadable?: string;
}

async function configGet(redis: Redis, name: string): Promise<string> {
  const r = (await redis.call('CONFIG', 'GET', name)) as string[];
  return r[1] ?? '';
}

/**
 * BullMQ's production advice, checked against the Redis dockops uses: `maxmemory-policy noeviction`
 * (any other policy may delete queued jobs when memory runs out) and persistence (without AOF a
 * restart or crash loses the jobs queued since the last snapshot, or all of them with no snapshots).
 */
export async function checkRedisSettings(redis: Redis): Promise<RedisCheck> {
  let policy: string;
  let aof: string;
  let save: string;
  try {
    [policy, aof, save] = await Promise.all([configGet(redis, 'maxmemory-policy'), configGet(redis, 'appendonly'), configGet(redis, 'save')]);
  } catch (err) {
    return {
      warnings: [],
      unreadable: `cannot read Redis's settings (CONFIG GET: ${(err as Error).message.split('\n')[0]}); make sure by hand that maxmemory-policy is noeviction and appendonly is yes`,
    };
  }
  const warnings: string[] = [];
  if (policy && policy !== 'noeviction') {
    warnings.push(
      `Redis maxmemory-policy is ${policy}: when Redis fills up it may delete queued jobs. Set "maxmemory-policy noeviction" in redis.conf (or CONFIG SET maxmemory-policy noeviction, then CONFIG REWRITE)`,
    );
  }
  if (aof !== 'yes' && save.trim() === '') {
    warnings.push(
      'Redis persistence is off (appendonly no, save ""): a Redis restart loses every queued job. Set "appendonly yes" in redis.conf (or CONFIG SET appendonly yes, then CONFIG REWRITE)',
    );
  } else if (aof !== 'yes') {
    warnings.push(
      `Redis appendonly is no (only RDB snapshots, save "${save}"): a crash loses the jobs queued since the last snapshot. Set "appendonly yes" in redis.conf (or CONFIG SET appendonly yes, then CONFIG REWRITE)`,
    );
  }
  return { warnings };
}

/** Runs the check once Redis first answers, and logs each finding once (never fails start-up). */
export function warnAboutRedisSettings(redis: Redis, log: Logger): Promise<RedisCheck | undefined> {
  const run = () =>
    checkRedisSettings(redis).then(
      (c) => {
        if (c.unreadable) log.warn({ setting: 'CONFIG' }, c.unreadable);
        for (const w of c.warnings) log.warn({ setting: w.split(' ')[1] }, w);
        if (!c.unreadable && !c.warnings.length) log.info('Redis settings checked: maxmemory-policy noeviction, appendonly yes');
        return c;
      },
      () => undefined,
    );
  if (redis.status === 'ready') return run();
  return new Promise((resolve) => redis.once('ready', () => void run().then(resolve)));
}
