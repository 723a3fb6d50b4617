#!/usr/bin/env node
import type { Server } from 'node:http';
import type { Config } from './config.js';
import type { Logger } from 'pino';

// Modules are loaded per command: `dockops docker …` must start as fast as the docker CLI, so it
// never loads BullMQ, express or dockerode (measured in bench/dispatch).

const USAGE = `Usage: dockops COMMAND

Commands:
  start                 Run the doors and a worker for every host in one process (the local default)
  serve                 Run the doors only (HTTP API); workers run elsewhere
  worker [--host NAME]  Run a worker for one Docker host (default: DOCKOPS_DEFAULT_HOST)
  docker ARGS...        Run a docker command through dockops, as the docker CLI would

Configuration comes from the environment: see .env.example.
`;

function fatal(message: string): never {
  process.stderr.write(`dockops: ${message}\n`);
  process.exit(2);
}

async function serve(config: Config, withWorkers: string[]) {
  const [{ createLogger }, { dockerClients }, { JobQueues, redisConnection }, { startWorker }, { createApp }, { apiRouter }] = await Promise.all([
    import('./log.js'),
    import('./docker/hosts.js'),
    import('./jobs/queue.js'),
    import('./jobs/worker.js'),
    import('./ops/http.js'),
    import('./doors/api/routes.js'),
  ]);
  const log = createLogger(config.logLevel);
  const [{ ArtifactStore }, { ArtifactLinks, loadLinkSecret }, { startArtifactSweeper }] = await Promise.all([import('./artifacts/store.js'), import('./artifacts/links.js'), import('./artifacts/sweep.js')]);
  const { BackupTargets } = await import('./backup/target.js');
  const artifacts = new ArtifactStore(config.artifactDir, config.artifactMaxBytes);
  if (config.apiTokens.size === 0) {
    fatal('DOCKOPS_API_TOKENS is empty: the API would refuse every request. Set NAME:TOKEN (make a token with `openssl rand -hex 24`), or use `npm start`, which makes one.');
  }
  let links: InstanceType<typeof ArtifactLinks>;
  try {
    links = new ArtifactLinks(await loadLinkSecret(config.linkSecret, config.artifactDir), config.publicUrl, config.artifactLinkTtlMs);
  } catch (err) {
    fatal(`cannot read or make the artifact link key: ${(err as Error).message}`);
  }
  const sweeper = startArtifactSweeper({ root: config.artifactDir, ttlMs: config.artifactTtlMs, log });
  const engines = dockerClients(config.hosts);
  const redis = redisConnection({ ...config.redis, role: 'producer' });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error (reconnecting)'));
  void import('./ops/redis-check.js').then((m) => m.warnAboutRedisSettings(redis, log));
  const jobs = new JobQueues(redis, config.queuePrefix, config.hosts.map((h) => h.name), config.keepJobs);
  const app = createApp({ redis, engines, log });
  const { Permissions, usesUsergroups } = await import('./policy/file.js');
  let usergroups: import('./policy/usergroups.js').UsergroupResolver | undefined;
  if (config.slack?.botToken && usesUsergroups(config.policyFile)) {
    const [{ WebClient }, { SlackUsergroups }] = await Promise.all([import('@slack/web-api'), import('./policy/usergroups.js')]);
    // Looked up while Slack waits for its ack (3 s): no retries, a short timeout; a failure denies.
    usergroups = new SlackUsergroups(new WebClient(config.slack.botToken, { slackApiUrl: config.slack.apiUrl, timeout: 2000, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true }));
  }
  const permissions = new Permissions(config.policyFile, config.slackDefaultRole, usergroups);
  // Observability and the web pages (README "Operations"): /metrics, /jobs/:id, /admin/queues.
  const [{ Metrics }, { WebAuth }, { jobPageRouter }, { boardRouter, BOARD_PATH }] = await Promise.all([import('./ops/metrics.js'), import('./ops/session.js'), import('./ops/job-page.js'), import('./ops/board.js')]);
  const metrics = new Metrics(jobs, redis, log).start();
  app.use(metrics.middleware());
  app.get('/metrics', metrics.handler(config.metricsToken));
  const webAuth = new WebAuth(config.apiTokens, links, config.publicUrl.startsWith('https:'));
  app.use(webAuth.router());
  app.use(jobPageRouter({ jobs, links, auth: webAuth, log }));
  app.use(BOARD_PATH, webAuth.require(), boardRouter(jobs));
  app.use('/api', apiRouter({ jobs, redis, artifacts, links, jobLinkTtlMs: config.jobLinkTtlMs, permissions, tokens: config.apiTokens, policy: config.policy, defaultHost: config.defaultHost, maxBodyBytes: config.maxBodyBytes, log }));
  let slackReporter: { close(): Promise<void> } | undefined;
  let slackSocket: { close(): Promise<void> } | undefined;
  if (config.slack) {
    const [{ mountSlack, socketModeSlack }, { startSlackReporter }] = await Promise.all([import('./doors/slack/app.js'), import('./report/slack.js')]);
    const slackDeps = { config: config.slack, jobs, redis, permissions, policy: config.policy, defaultHost: config.defaultHost, maxBodyBytes: config.maxBodyBytes, log };
    if (config.slack.signingSecrets.length) mountSlack(app, slackDeps);
    if (config.slack.appToken) {
      const socket = socketModeSlack(slackDeps, config.slack.appToken);
      slackSocket = socket;
      // Not awaited: the other doors come up while the WebSocket connects (it retries by itself).
      socket
        .start()
        .then(() => log.info('slack socket mode connected'))
        .catch((err: Error) => log.error({ err: err.message }, 'slack socket mode failed to start'));
    }
    const { WebClient } = await import('@slack/web-api');
    const web = config.slack.botToken ? new WebClient(config.slack.botToken, { slackApiUrl: config.slack.apiUrl, logLevel: undefined }) : undefined;
    slackReporter = await startSlackReporter({ jobs, redis, log, publicUrl: config.publicUrl, web, liveAfterMs: config.slack.liveAfterMs, links, jobLinkTtlMs: config.jobLinkTtlMs });
  }
  let githubReporter: { close(): Promise<void> } | undefined;
  if (config.github) {
    const [{ mountGithub }, { startGithubReporter }, { Octokit }] = await Promise.all([import('./doors/github/webhook.js'), import('./report/github.js'), import('@octokit/rest')]);
    mountGithub(app, { secrets: config.github.secrets, rules: config.github.rules, jobs, redis, defaultHost: config.defaultHost, log });
    if (config.github.token) {
      const octokit = new Octokit({ auth: config.github.token, baseUrl: config.github.apiUrl, log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
      githubReporter = startGithubReporter({ jobs, redis, log, publicUrl: config.publicUrl, octokit });
    }
  }
  // One Slack message per build, for rules with slack_channel (needs the bot token).
  let buildReporter: { close(): Promise<void> } | undefined;
  if (config.github && config.slack?.botToken) {
    const [{ startSlackBuildReporter }, { WebClient }] = await Promise.all([import('./report/slack-builds.js'), import('@slack/web-api')]);
    const web = new WebClient(config.slack.botToken, { slackApiUrl: config.slack.apiUrl });
    buildReporter = startSlackBuildReporter({ jobs, redis, log, publicUrl: config.publicUrl, web, jobPage: (id: string) => links.signJobPage(id, config.jobLinkTtlMs).url });
  }
  const { Schedules } = await import('./schedules/service.js');
  const { loadSchedules } = await import('./schedules/file.js');
  const hostNames = config.hosts.map((h) => h.name);
  const schedules = new Schedules(redis, config.queuePrefix, hostNames, () => loadSchedules(config.jobsDir, hostNames, config.defaultHost), log);
  // Checked at start by loadConfig; applied to Redis once it answers.
  whenReady(redis, () => void schedules.reload().catch((err) => log.error({ err: (err as Error).message }, 'schedules not applied')));
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reading jobs/*.yml again');
    void schedules.reload().catch((err) => log.error({ err: (err as Error).message }, 'schedules not reloaded: the ones in force stay'));
  });
  const { startScheduleReporter } = await import('./report/schedule.js');
  const slackWeb = config.slack?.botToken ? new (await import('@slack/web-api')).WebClient(config.slack.botToken, { slackApiUrl: config.slack.apiUrl }) : undefined;
  const scheduleReporter = startScheduleReporter({ jobs, redis, schedules, log, publicUrl: config.publicUrl, jobPage: (id: string) => links.signJobPage(id, config.jobLinkTtlMs).url, web: slackWeb, alertChannel: config.alertChannel, checkMs: config.scheduleCheckMs });
  const workers = withWorkers.map((host) => {
    const connection = redisConnection({ ...config.redis, role: 'worker' });
    connection.on('error', () => undefined);
    return startWorker({ host, docker: engines.get(host)!, connection, prefix: config.queuePrefix, concurrency: config.concurrency, log, resultMaxBytes: config.resultMaxBytes, lockMs: config.jobLockMs, artifacts, backups: new BackupTargets(config.backups.targets, config.backups.settings), schedules, policy: config.policy, fleet: { hosts: config.hosts, defaultHost: config.defaultHost, engines }, ...buildOptions(config) });
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.bind, () => resolve(s));
    s.on('error', reject);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  log.info({ bind: config.bind, port, hosts: config.hosts.map((h) => h.name), workers: withWorkers }, 'dockops listening');
  // Tests and scripts read the port from this line when DOCKOPS_PORT=0.
  if (process.env.DOCKOPS_ANNOUNCE === '1') process.stderr.write(`dockops listening on http://${config.bind}:${port}\n`);
  onShutdown(log, async () => {
    sweeper.stop();
    server.close();
    await slackSocket?.close().catch(() => undefined);
    await Promise.all(workers.map((w) => w.close(config.shutdownGraceMs)));
    await slackReporter?.close();
    await githubReporter?.close();
    await buildReporter?.close();
    await scheduleReporter.close();
    await metrics.close();
    await schedules.close();
    await jobs.close();
    redis.disconnect();
  });
}

async function worker(config: Config, host: string) {
  const [{ createLogger }, { dockerClients }, { redisConnection }, { startWorker }] = await Promise.all([
    import('./log.js'),
    import('./docker/hosts.js'),
    import('./jobs/queue.js'),
    import('./jobs/worker.js'),
  ]);
  const log = createLogger(config.logLevel);
  const [{ ArtifactStore }, { startArtifactSweeper }] = await Promise.all([import('./artifacts/store.js'), import('./artifacts/sweep.js')]);
  const { BackupTargets } = await import('./backup/target.js');
  const artifacts = new ArtifactStore(config.artifactDir, config.artifactMaxBytes);
  if (!config.hosts.some((h) => h.name === host)) fatal(`--host ${host}: not one of DOCKOPS_DOCKER_HOSTS (${config.hosts.map((h) => h.name).join(', ')})`);
  const engines = dockerClients(config.hosts);
  const docker = engines.get(host)!;
  const connection = redisConnection({ ...config.redis, role: 'worker' });
  connection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error (reconnecting)'));
  void import('./ops/redis-check.js').then((m) => m.warnAboutRedisSettings(connection, log));
  const { Schedules } = await import('./schedules/service.js');
  const { loadSchedules } = await import('./schedules/file.js');
  const hostNames = config.hosts.map((h) => h.name);
  const schedules = new Schedules(connection, config.queuePrefix, hostNames, () => loadSchedules(config.jobsDir, hostNames, config.defaultHost), log);
  whenReady(connection, () => void schedules.reload().catch((err) => log.error({ err: (err as Error).message }, 'schedules not applied')));
  const w = startWorker({ host, docker, connection, prefix: config.queuePrefix, concurrency: config.concurrency, log, resultMaxBytes: config.resultMaxBytes, lockMs: config.jobLockMs, artifacts, backups: new BackupTargets(config.backups.targets, config.backups.settings), schedules, policy: config.policy, fleet: { hosts: config.hosts, defaultHost: config.defaultHost, engines }, ...buildOptions(config) });
  // Workers sweep too: a deployment of `serve` elsewhere and workers here still expires files.
  const sweeper = startArtifactSweeper({ root: config.artifactDir, ttlMs: config.artifactTtlMs, log });
  log.info({ host }, 'dockops worker started');
  onShutdown(log, async () => {
    sweeper.stop();
    await w.close(config.shutdownGraceMs);
    connection.disconnect();
  });
}

/** What workers need for builds: every host (builds ls reads them all), the rules and the limits. */
function buildOptions(config: Config) {
  return {
    hosts: config.hosts.map((h) => h.name),
    builds: { rules: config.buildRules, concurrency: config.buildConcurrency, redeployWaitMs: config.redeployWaitMs, timeoutMs: config.buildTimeoutMs },
  };
}

/** SIGTERM/SIGINT drain: no new jobs, running ones finish (or are released), then exit. */
function onShutdown(log: Logger, close: () => Promise<void>) {
  let closing = false;
  const handler = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down: draining jobs');
    close()
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

async function main(argv: string[]) {
  const [cmd, ...rest] = argv;
  if (cmd === 'docker') {
    const { runCli } = await import('./doors/cli/cli.js');
    return process.exit(await runCli(rest));
  }
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  const { ConfigError, loadConfig } = await import('./config.js');
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fatal(err.message);
    throw err;
  }
  switch (cmd) {
    case 'start':
      return serve(config, config.hosts.map((h) => h.name));
    case 'serve':
      return serve(config, []);
    case 'worker': {
      const i = rest.indexOf('--host');
      return worker(config, i >= 0 && rest[i + 1] ? rest[i + 1] : config.defaultHost);
    }
    default:
      fatal(`unknown command "${cmd}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`dockops: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});

/** Runs `fn` once the connection is ready (now, or when Redis first answers). */
function whenReady(conn: { status: string; once(event: 'ready', fn: () => void): unknown }, fn: () => void) {
  if (conn.status === 'ready') fn();
  else conn.once('ready', fn);
}
