import { z } from 'zod';
import { loadPolicyFile, usesUsergroups, type PolicyFile } from './policy/file.js';
import type { Role } from './policy/roles.js';
import { loadBuildRules, type BuildRepo } from './builds/rules.js';
import { parseTargets, type BackupSettings, type BackupTarget } from './backup/target.js';
import { parseRetention, type Retention } from './backup/retention.js';
import { AgeKeys, readIdentityFile, readPassphraseFile } from './backup/age.js';
import { loadSchedules, type Schedule } from './schedules/file.js';
import { parseTtl } from './render/time.js';
import type { RedisNode, RedisSettings } from './jobs/queue.js';

/** Log drivers that keep a container's logs on its host; the others ship them out with the engine's own settings. */
export const LOCAL_LOG_DRIVERS = ['json-file', 'local', 'journald', 'none'];

/** A Docker host by name: `local=unix:///run/dockops/docker.sock`, `b=tcp://127.0.0.1:2376`. */
export interface DockerHostConfig {
  name: string;
  url: string;
}

const hostName = /^[a-z0-9][a-z0-9_-]{0,31}$/;

function parseHosts(raw: string, ctx: z.RefinementCtx): DockerHostConfig[] {
  const hosts: DockerHostConfig[] = [];
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = eq > 0 ? part.slice(0, eq) : '';
    const url = eq > 0 ? part.slice(eq + 1) : '';
    if (!hostName.test(name) || !/^(unix|tcp|http|https):\/\/./.test(url)) {
      ctx.addIssue({ code: 'custom', message: `"${part}" is not NAME=URL (for example local=unix:///var/run/docker.sock)` });
      return z.NEVER;
    }
    hosts.push({ name, url });
  }
  if (hosts.length === 0) ctx.addIssue({ code: 'custom', message: 'names no host' });
  return hosts;
}

function parseTokens(raw: string, ctx: z.RefinementCtx): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const colon = part.indexOf(':');
    const name = part.slice(0, colon);
    const token = part.slice(colon + 1);
    if (colon <= 0 || token.length < 16) {
      ctx.addIssue({ code: 'custom', message: 'each entry must be NAME:TOKEN with a token of 16 or more characters (make one with `openssl rand -hex 24`)' });
      return z.NEVER;
    }
    tokens.set(token, name);
  }
  return tokens;
}

/** The longest a signed artifact link may last. */
export const MAX_LINK_TTL_MS = 30 * 86_400_000;

/** `host:port,host:port` (Sentinel or Cluster nodes). */
function parseNodes(raw: string | undefined, name: string, issues: string[]): RedisNode[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const nodes: RedisNode[] = [];
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(part);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      issues.push(`  ${name}: "${part}" is not HOST:PORT (for example 10.0.0.5:26379,10.0.0.6:26379)`);
      return undefined;
    }
    nodes.push({ host: m[1].replace(/^\[|\]$/g, ''), port });
  }
  return nodes;
}

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const Env = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default('redis://127.0.0.1:6379'),
  REDIS_SENTINELS: z.string().optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).default('mymaster'),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_CLUSTER_NODES: z.string().optional(),
  DOCKER_HOST: z.string().optional(),
  DOCKOPS_DOCKER_HOSTS: z.string().optional(),
  DOCKOPS_DEFAULT_HOST: z.string().optional(),
  DOCKOPS_BIND: z.string().default('127.0.0.1'),
  DOCKOPS_PORT: int(8080, 0, 65535),
  DOCKOPS_PUBLIC_URL: z.string().url().optional(),
  DOCKOPS_API_TOKENS: z.string().optional(),
  DOCKOPS_QUEUE_PREFIX: z.string().regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, - and _ only').default('dockops'),
  DOCKOPS_WORKER_CONCURRENCY: int(4, 1, 256),
  DOCKOPS_MAX_BODY_BYTES: int(16 * 1024, 1024, 1024 * 1024),
  DOCKOPS_RESULT_MAX_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  DOCKOPS_KEEP_JOBS: int(1000, 1, 1_000_000),
  DOCKOPS_SHUTDOWN_GRACE_MS: int(30_000, 0, 3_600_000),
  DOCKOPS_JOB_LOCK_MS: int(30_000, 1000, 600_000),
  DOCKOPS_ARTIFACT_DIR: z.string().startsWith('/', 'must be an absolute path').default('/var/lib/dockops/artifacts'),
  DOCKOPS_ARTIFACT_MAX_BYTES: int(4 * 1024 ** 3, 1024, 1024 ** 4),
  DOCKOPS_ARTIFACT_TTL: z.string().default('7d'),
  DOCKOPS_ARTIFACT_LINK_TTL: z.string().default('24h'),
  DOCKOPS_JOB_LINK_TTL: z.string().default('7d'),
  DOCKOPS_METRICS_TOKEN: z.string().min(16, 'must be 16 characters or more (make one with `openssl rand -hex 24`)').optional(),
  DOCKOPS_LINK_SECRET: z.string().min(32, 'must be 32 characters or more (make one with `openssl rand -hex 32`)').optional(),
  DOCKOPS_ALLOW_PRIVILEGED: z.enum(['true', 'false']).default('false'),
  DOCKOPS_ALLOW_HOST_NAMESPACES: z.enum(['true', 'false']).default('false'),
  DOCKOPS_ALLOW_CAP_ADD: z.enum(['true', 'false']).default('false'),
  DOCKOPS_ALLOW_DEVICES: z.enum(['true', 'false']).default('false'),
  DOCKOPS_ALLOW_SECURITY_OPT: z.enum(['true', 'false']).default('false'),
  DOCKOPS_ALLOW_CGROUP_PARENT: z.enum(['true', 'false']).default('false'),
  DOCKOPS_LOG_DRIVERS: z
    .string()
    .default(LOCAL_LOG_DRIVERS.join(','))
    .refine((v) => v.split(',').every((d) => /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/.test(d.trim())), 'must be log driver names, comma-separated (e.g. json-file,local,gelf)'),
  DOCKOPS_BIND_ALLOWLIST: z.string().default(''),
  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_BOT_TOKEN: z.string().regex(/^xox[bp]-/, 'must be a bot token (xoxb-…)').optional(),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-/, 'must be an app-level token (xapp-…) with the connections:write scope').optional(),
  SLACK_API_URL: z.string().url().default('https://slack.com/api/'),
  SLACK_COMMAND: z.string().regex(/^\/[a-z0-9_-]+$/, 'a slash command such as /docker').default('/docker'),
  SLACK_ALLOWED_CHANNELS: z.string().default(''),
  GITHUB_WEBHOOK_SECRET: z.string().optional(),
  GITHUB_TOKEN: z.string().optional(),
  GITHUB_API_URL: z.string().url().default('https://api.github.com'),
  DOCKOPS_JOBS_DIR: z.string().default('jobs'),
  SLACK_LIVE_AFTER_MS: int(2000, 0, 60_000),
  SLACK_DEFAULT_ROLE: z.enum(['viewer', 'operator', 'admin']).default('viewer'),
  DOCKOPS_POLICY_FILE: z.string().optional(),
  DOCKOPS_BACKUP_TARGETS: z.string().default('local=file:///var/lib/dockops/backups'),
  DOCKOPS_BACKUP_COMPRESS: z.enum(['zstd', 'gzip', 'none']).default('zstd'),
  DOCKOPS_BACKUP_LEVEL: z.coerce.number().int().min(1).max(19).optional(),
  DOCKOPS_BACKUP_KEEP: z.string().default('last=7,daily=7,weekly=4,monthly=12'),
  DOCKOPS_BACKUP_SHRINK_RATIO: z.coerce.number().min(0).max(1).default(0.5),
  /** age identities (AGE-SECRET-KEY-1… lines) that restore/verify decrypt with; targets encrypt with `age_recipient=` in their URL. */
  DOCKOPS_BACKUP_AGE_IDENTITY_FILE: z.string().optional(),
  /** First line: the passphrase of targets with `age_passphrase=true` (encrypts and decrypts). */
  DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE: z.string().optional(),
  DOCKOPS_RESTORE_IMAGE: z.string().min(1).default('busybox:latest'),
  DOCKOPS_ALERT_CHANNEL: z.string().optional(),
  DOCKOPS_SCHEDULE_CHECK_MS: int(60_000, 200, 3_600_000),
  DOCKOPS_BUILD_CONCURRENCY: int(2, 1, 64),
  DOCKOPS_REDEPLOY_WAIT_MS: int(30_000, 0, 3_600_000),
  DOCKOPS_BUILD_TIMEOUT_MS: int(3_600_000, 1000, 7 * 86_400_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  redisUrl: string;
  /** How to reach Redis: REDIS_URL alone, or with Sentinel or Cluster nodes (the role is added per connection). */
  redis: Omit<RedisSettings, 'role'>;
  hosts: DockerHostConfig[];
  defaultHost: string;
  bind: string;
  port: number;
  publicUrl: string;
  /** token → token name. Empty means the API door refuses everything. */
  apiTokens: Map<string, string>;
  queuePrefix: string;
  concurrency: number;
  maxBodyBytes: number;
  resultMaxBytes: number;
  keepJobs: number;
  shutdownGraceMs: number;
  /** How long a job's lock lasts without renewal: a dead worker's job is taken up after it. */
  jobLockMs: number;
  /** Where uploaded files and files jobs make (save -o, export -o) are kept. */
  artifactDir: string;
  artifactMaxBytes: number;
  /** Artifacts older than this are removed by a periodic sweep; 0 keeps them forever. */
  artifactTtlMs: number;
  /** How long a signed artifact link lasts when no other TTL is asked for. */
  artifactLinkTtlMs: number;
  /** How long a signed job page link (the one Slack messages carry) works without a login. */
  jobLinkTtlMs: number;
  /** Bearer token GET /metrics asks for; undefined: /metrics is open to whoever reaches the port. */
  metricsToken?: string;
  /** Key of the signed artifact links; undefined: one kept in the artifact directory (mode 0600). */
  linkSecret?: string;
  logLevel: string;
  policy: RunPolicy;
  /** jobs/*.yml: build rules and schedules. */
  jobsDir: string;
  /** The schedules of jobs/*.yml, checked at start (file:line on a mistake). */
  schedules: Schedule[];
  /** Slack channel for failures of scheduled jobs and missed-run alerts, when a schedule names none. */
  alertChannel?: string;
  /** How often the missed-run check runs. */
  scheduleCheckMs: number;
  /** Where volume backups go and the defaults of the backup verbs. */
  backups: { targets: BackupTarget[]; settings: BackupSettings };
  /** Who may run what (roles, hosts, name patterns); undefined: tokens are admins, Slack gets SLACK_DEFAULT_ROLE. */
  policyFile?: PolicyFile;
  /** Build rules of jobs/*.yml, validated at start even when the GitHub door is off. */
  buildRules: BuildRepo[];
  /** Builds running at once per Docker host (one per repository at most). */
  buildConcurrency: number;
  /** How long a redeployed container must stay up (and healthy, with a health check) to be kept. */
  redeployWaitMs: number;
  /** DOCKOPS_BUILD_TIMEOUT_MS: how long a build may run when its rule sets no `timeout`. */
  buildTimeoutMs: number;
  slackDefaultRole: Role;
  /** The GitHub door, when GITHUB_WEBHOOK_SECRET is set. */
  github?: { secrets: string[]; token?: string; apiUrl: string; rules: BuildRepo[] };
  /** The Slack door, when SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode) is set. */
  slack?: SlackConfig;
}

export interface SlackConfig {
  /** Several secrets are accepted while one is rotated. Empty: no HTTP endpoint (Socket Mode only). */
  signingSecrets: string[];
  botToken?: string;
  /** App-level token: Slack's events come over a Socket Mode WebSocket instead of POST /slack/events. */
  appToken?: string;
  apiUrl: string;
  command: string;
  /** Channel IDs where the command may run; `*` for every channel. Empty: none (deny by default). */
  allowedChannels: string[];
  /** Jobs still running after this long get a live message (with a bot token). */
  liveAfterMs: number;
}

/** What containers may do on the host; everything dangerous is off unless configured. */
export interface RunPolicy {
  allowPrivileged: boolean;
  allowHostNamespaces: boolean;
  allowCapAdd: boolean;
  /** `--device`: host devices in the container. Absent is false. */
  allowDevices?: boolean;
  /** `--security-opt` other than no-new-privileges (seccomp/apparmor/label unconfined…). Absent is false. */
  allowSecurityOpt?: boolean;
  /** `--cgroup-parent`: a cgroup outside the engine's, where the container's limits may not hold. Absent is false. */
  allowCgroupParent?: boolean;
  /** `--log-driver` values allowed. Absent is LOCAL_LOG_DRIVERS (the logs stay on the host). */
  logDrivers?: string[];
  /** Host directories under which bind mounts are allowed (absolute paths). */
  bindAllowlist: string[];
}

export class ConfigError extends Error {}

/**
 * Reads the environment once at start-up. A wrong value stops start-up with a message that names
 * the variable and says how to fix it (every variable is documented in .env.example).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${String(i.path[0])}: ${i.message}`);
    throw new ConfigError(`invalid configuration (see .env.example):\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const issues: string[] = [];
  const ctx = (name: string): z.RefinementCtx =>
    ({ addIssue: (i: { message?: string }) => issues.push(`  ${name}: ${i.message}`) }) as unknown as z.RefinementCtx;

  const rawHosts = e.DOCKOPS_DOCKER_HOSTS ?? `local=${e.DOCKER_HOST ?? 'unix:///var/run/docker.sock'}`;
  const hosts = parseHosts(rawHosts, ctx(e.DOCKOPS_DOCKER_HOSTS ? 'DOCKOPS_DOCKER_HOSTS' : 'DOCKER_HOST')) ?? [];
  const defaultHost = e.DOCKOPS_DEFAULT_HOST ?? hosts[0]?.name ?? 'local';
  if (hosts.length && !hosts.some((h) => h.name === defaultHost)) {
    issues.push(`  DOCKOPS_DEFAULT_HOST: "${defaultHost}" is not one of DOCKOPS_DOCKER_HOSTS (${hosts.map((h) => h.name).join(', ')})`);
  }
  const apiTokens = e.DOCKOPS_API_TOKENS ? parseTokens(e.DOCKOPS_API_TOKENS, ctx('DOCKOPS_API_TOKENS')) ?? new Map() : new Map();
  const bindAllowlist = e.DOCKOPS_BIND_ALLOWLIST.split(',').map((x) => x.trim()).filter(Boolean);
  for (const b of bindAllowlist) {
    if (!b.startsWith('/') || b.split('/').includes('..')) issues.push(`  DOCKOPS_BIND_ALLOWLIST: "${b}" must be an absolute path without ".."`);
  }
  let policyFile: PolicyFile | undefined;
  if (e.DOCKOPS_POLICY_FILE) {
    try {
      policyFile = loadPolicyFile(e.DOCKOPS_POLICY_FILE);
    } catch (err) {
      issues.push(`  DOCKOPS_POLICY_FILE: ${(err as Error).message.replace(/\n/g, '\n  ')}`);
    }
  }
  let rules: BuildRepo[] = [];
  try {
    rules = loadBuildRules(e.DOCKOPS_JOBS_DIR);
  } catch (err) {
    issues.push(`  DOCKOPS_JOBS_DIR: ${(err as Error).message.replace(/\n/g, '\n  ')}`);
  }
  const ghSecrets = (e.GITHUB_WEBHOOK_SECRET ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  if (usesUsergroups(policyFile) && !e.SLACK_BOT_TOKEN) issues.push('  DOCKOPS_POLICY_FILE: grants name slack_usergroups, whose members are looked up with SLACK_BOT_TOKEN (scope usergroups:read): set it');
  const secrets = (e.SLACK_SIGNING_SECRET ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  if (e.SLACK_SIGNING_SECRET !== undefined && secrets.some((x) => x.length < 16)) issues.push('  SLACK_SIGNING_SECRET: looks too short; copy it from your Slack app\'s Basic Information page');
  // age keys: read once here, kept in private fields (never in job data or logs).
  let agePassphrase: string | undefined;
  let ageKeys: AgeKeys | undefined;
  try {
    if (e.DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE) agePassphrase = readPassphraseFile(e.DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE);
  } catch (err) {
    issues.push(`  DOCKOPS_BACKUP_AGE_PASSPHRASE_FILE: ${(err as Error).message}`);
  }
  try {
    const identities = e.DOCKOPS_BACKUP_AGE_IDENTITY_FILE ? readIdentityFile(e.DOCKOPS_BACKUP_AGE_IDENTITY_FILE) : [];
    if (identities.length || agePassphrase !== undefined) ageKeys = new AgeKeys({ identities, passphrase: agePassphrase });
  } catch (err) {
    issues.push(`  DOCKOPS_BACKUP_AGE_IDENTITY_FILE: ${(err as Error).message}`);
  }
  let backupTargets: BackupTarget[] = [];
  try {
    backupTargets = parseTargets(e.DOCKOPS_BACKUP_TARGETS, { agePassphrase });
  } catch (err) {
    issues.push(`  DOCKOPS_BACKUP_TARGETS: ${(err as Error).message}`);
  }
  let retention: Retention = {};
  try {
    retention = parseRetention(e.DOCKOPS_BACKUP_KEEP);
  } catch (err) {
    issues.push(`  DOCKOPS_BACKUP_KEEP: ${(err as Error).message}`);
  }
  let schedules: Schedule[] = [];
  if (hosts.length) {
    try {
      schedules = loadSchedules(e.DOCKOPS_JOBS_DIR, hosts.map((h) => h.name), defaultHost);
    } catch (err) {
      issues.push(`  DOCKOPS_JOBS_DIR: ${(err as Error).message.replace(/\n/g, '\n  ')}`);
    }
  }
  const artifactTtlMs = parseTtl(e.DOCKOPS_ARTIFACT_TTL);
  if (artifactTtlMs === undefined) issues.push(`  DOCKOPS_ARTIFACT_TTL: "${e.DOCKOPS_ARTIFACT_TTL}" is not a duration (7d, 24h, 90m, or seconds; 0 keeps artifacts forever)`);
  const artifactLinkTtlMs = parseTtl(e.DOCKOPS_ARTIFACT_LINK_TTL);
  if (!artifactLinkTtlMs || artifactLinkTtlMs > MAX_LINK_TTL_MS) issues.push(`  DOCKOPS_ARTIFACT_LINK_TTL: "${e.DOCKOPS_ARTIFACT_LINK_TTL}" must be a duration from 1s to 30d (24h, 7d, 90m, or seconds)`);
  const jobLinkTtlMs = parseTtl(e.DOCKOPS_JOB_LINK_TTL);
  if (!jobLinkTtlMs || jobLinkTtlMs > MAX_LINK_TTL_MS) issues.push(`  DOCKOPS_JOB_LINK_TTL: "${e.DOCKOPS_JOB_LINK_TTL}" must be a duration from 1s to 30d (7d, 24h, 90m, or seconds)`);
  const sentinels = parseNodes(e.REDIS_SENTINELS, 'REDIS_SENTINELS', issues);
  const clusterNodes = parseNodes(e.REDIS_CLUSTER_NODES, 'REDIS_CLUSTER_NODES', issues);
  if (sentinels && clusterNodes) issues.push('  REDIS_CLUSTER_NODES: set either REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both');
  // BullMQ on a Cluster: every key of a queue must hash to one slot, so the prefix is a {hash tag}.
  const queuePrefix = clusterNodes ? `{${e.DOCKOPS_QUEUE_PREFIX}}` : e.DOCKOPS_QUEUE_PREFIX;
  if (issues.length) throw new ConfigError(`invalid configuration (see .env.example):\n${issues.join('\n')}`);
  return {
    github: ghSecrets.length ? { secrets: ghSecrets, token: e.GITHUB_TOKEN, apiUrl: e.GITHUB_API_URL.replace(/\/$/, ''), rules } : undefined,
    buildRules: rules,
    jobsDir: e.DOCKOPS_JOBS_DIR,
    schedules,
    alertChannel: e.DOCKOPS_ALERT_CHANNEL,
    scheduleCheckMs: e.DOCKOPS_SCHEDULE_CHECK_MS,
    backups: {
      targets: backupTargets,
      settings: { compression: e.DOCKOPS_BACKUP_COMPRESS, level: e.DOCKOPS_BACKUP_LEVEL, retention, shrinkRatio: e.DOCKOPS_BACKUP_SHRINK_RATIO, restoreImage: e.DOCKOPS_RESTORE_IMAGE, ageKeys },
    },
    buildConcurrency: e.DOCKOPS_BUILD_CONCURRENCY,
    redeployWaitMs: e.DOCKOPS_REDEPLOY_WAIT_MS,
    buildTimeoutMs: e.DOCKOPS_BUILD_TIMEOUT_MS,
    policyFile,
    slackDefaultRole: e.SLACK_DEFAULT_ROLE,
    slack: secrets.length || e.SLACK_APP_TOKEN
      ? {
          signingSecrets: secrets,
          botToken: e.SLACK_BOT_TOKEN,
          appToken: e.SLACK_APP_TOKEN,
          apiUrl: e.SLACK_API_URL.endsWith('/') ? e.SLACK_API_URL : `${e.SLACK_API_URL}/`,
          command: e.SLACK_COMMAND,
          allowedChannels: e.SLACK_ALLOWED_CHANNELS.split(',').map((x) => x.trim()).filter(Boolean),
          liveAfterMs: e.SLACK_LIVE_AFTER_MS,
        }
      : undefined,
    redisUrl: e.REDIS_URL,
    redis: { url: e.REDIS_URL, sentinels, sentinelName: e.REDIS_SENTINEL_NAME, sentinelPassword: e.REDIS_SENTINEL_PASSWORD, clusterNodes },
    hosts,
    defaultHost,
    bind: e.DOCKOPS_BIND,
    port: e.DOCKOPS_PORT,
    publicUrl: e.DOCKOPS_PUBLIC_URL ?? `http://${e.DOCKOPS_BIND}:${e.DOCKOPS_PORT}`,
    apiTokens,
    queuePrefix,
    concurrency: e.DOCKOPS_WORKER_CONCURRENCY,
    maxBodyBytes: e.DOCKOPS_MAX_BODY_BYTES,
    resultMaxBytes: e.DOCKOPS_RESULT_MAX_BYTES,
    keepJobs: e.DOCKOPS_KEEP_JOBS,
    shutdownGraceMs: e.DOCKOPS_SHUTDOWN_GRACE_MS,
    jobLockMs: e.DOCKOPS_JOB_LOCK_MS,
    artifactDir: e.DOCKOPS_ARTIFACT_DIR,
    artifactMaxBytes: e.DOCKOPS_ARTIFACT_MAX_BYTES,
    artifactTtlMs: artifactTtlMs ?? 0,
    artifactLinkTtlMs: artifactLinkTtlMs ?? 0,
    linkSecret: e.DOCKOPS_LINK_SECRET,
    jobLinkTtlMs: jobLinkTtlMs ?? 0,
    metricsToken: e.DOCKOPS_METRICS_TOKEN,
    logLevel: e.LOG_LEVEL,
    policy: {
      allowPrivileged: e.DOCKOPS_ALLOW_PRIVILEGED === 'true',
      allowHostNamespaces: e.DOCKOPS_ALLOW_HOST_NAMESPACES === 'true',
      allowCapAdd: e.DOCKOPS_ALLOW_CAP_ADD === 'true',
      allowDevices: e.DOCKOPS_ALLOW_DEVICES === 'true',
      allowSecurityOpt: e.DOCKOPS_ALLOW_SECURITY_OPT === 'true',
      allowCgroupParent: e.DOCKOPS_ALLOW_CGROUP_PARENT === 'true',
      logDrivers: e.DOCKOPS_LOG_DRIVERS.split(',').map((d) => d.trim()).filter(Boolean),
      bindAllowlist,
    },
  };
}
