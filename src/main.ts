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
  const { ArtifactStore } = await import('./artifacts/store.js');
  const artifacts = new ArtifactStore(config.artifactDir, config.artifactMaxBytes);
  if (config.apiTokens.size === 0) {
    fatal('DOCKOPS_API_TOKENS is empty: the API would refuse every request. Set NAME:TOKEN (make a token with `openssl rand -hex 24`), or use `npm start`, which makes one.');
  }
  const engines = dockerClients(config.hosts);
  const redis = redisConnection({ url: config.redisUrl, role: 'producer' });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error (reconnecting)'));
  const jobs = new JobQueues(redis, config.queuePrefix, config.hosts.map((h) => h.name), config.keepJobs);
  const app = createApp({ redis, engines, log });
  const { Permissions } = await import('./policy/file.js');
  const permissions = new Permissions(config.policyFile, config.slackDefaultRole);
  app.use('/api', apiRouter({ jobs, redis, artifacts, permissions, tokens: config.apiTokens, policy: config.policy, defaultHost: config.defaultHost, maxBodyBytes: config.maxBodyBytes, log }));
  let slackReporter: { close(): Promise<void> } | undefined;
  if (config.slack) {
    const [{ mountSlack }, { startSlackReporter }] = await Promise.all([import('./doors/slack/app.js'), import('./report/slack.js')]);
    mountSlack(app, { config: config.slack, jobs, redis, permissions, policy: config.policy, defaultHost: config.defaultHost, maxBodyBytes: config.maxBodyBytes, log });
    const { WebClient } = await import('@slack/web-api');
    const web = config.slack.botToken ? new WebClient(config.slack.botToken, { slackApiUrl: config.slack.apiUrl, logLevel: undefined }) : undefined;
    slackReporter = await startSlackReporter({ jobs, redis, log, publicUrl: config.publicUrl, web, liveAfterMs: config.slack.liveAfterMs });
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
    buildReporter = startSlackBuildReporter({ jobs, redis, log, publicUrl: config.publicUrl, web });
  }
  const workers = withWorkers.map((host) => {
    const connection = redisConnection({ url: config.redisUrl, role: 'worker' });
    connection.on('error', () => undefined);
    return startWorker({ host, docker: engines.get(host)!, connection, prefix: config.queuePrefix, concurrency: config.concurrency, log, resultMaxBytes: config.resultMaxBytes, lockMs: config.jobLockMs, artifacts, ...buildOptions(config) });
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
    server.close();
    await Promise.all(workers.map((w) => w.close(config.shutdownGraceMs)));
    await slackReporter?.close();
    await githubReporter?.close();
    await buildReporter?.close();
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
  const { ArtifactStore } = await import('./artifacts/store.js');
  const artifacts = new ArtifactStore(config.artifactDir, config.artifactMaxBytes);
  if (!config.hosts.some((h) => h.name === host)) fatal(`--host ${host}: not one of DOCKOPS_DOCKER_HOSTS (${config.hosts.map((h) => h.name).join(', ')})`);
  const docker = dockerClients(config.hosts).get(host)!;
  const connection = redisConnection({ url: config.redisUrl, role: 'worker' });
  connection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error (reconnecting)'));
  const w = startWorker({ host, docker, connection, prefix: config.queuePrefix, concurrency: config.concurrency, log, resultMaxBytes: config.resultMaxBytes, lockMs: config.jobLockMs, artifacts, ...buildOptions(config) });
  log.info({ host }, 'dockops worker started');
  onShutdown(log, async () => {
    await w.close(config.shutdownGraceMs);
    connection.disconnect();
  });
}

/** What workers need for builds: every host (builds ls reads them all), the rules and the limits. */
function buildOptions(config: Config) {
  return {
    hosts: config.hosts.map((h) => h.name),
    builds: { rules: config.buildRules, concurrency: config.buildConcurrency, redeployWaitMs: config.redeployWaitMs },
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
