import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JobData } from '../../src/jobs/queue.js';
import { supersededKey } from '../../src/builds/records.js';
import { isValidRef } from '../../src/docker/refs.js';
import { api, cli, ROOT, startService, type Service } from '../support/service.js';
import { dropPrefix, redis } from '../support/env.js';
import { postSigned, slashCommand } from '../support/slack.js';
import { anyText, anyWords, checkProperty, clearMessageProblem, E2E_RUNS, injectionCorpus, throughParseAndPolicy, verbWords } from '../support/hostile.js';


/**
 * Hostile input through every door of the real `dockops start` process: the API, the Slack slash
 * command (signed correctly, random text), the GitHub webhook (signed correctly, random payloads)
 * and the CLI (random argument arrays). Nothing gets past a door as a 5xx or a crash; a refusal is
 * a message a person can act on and enqueues nothing; what is enqueued is a valid, safe job.
 *
 * The service's one host points at an engine socket that does not exist: whatever a random input
 * gets enqueued (`system prune -af`, say) fails with "cannot connect" instead of touching the
 * engine other people's tests share. The doors never call the engine, so they are tested as is.
 */
const SLACK_SECRET = 'hostile-slack-signing-secret-0123';
const GH_SECRET = 'hostile-github-webhook-secret';
let dir: string;
let svc: Service;
let conn: Redis;
let queue: Queue;
const accepted = new Set<string>();

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-hostile-'));
  const jobs = path.join(dir, 'jobs');
  mkdirSync(jobs);
  // Every branch and tag builds, named after itself: the push's own ref becomes an image tag.
  writeFileSync(
    path.join(jobs, 'builds.yml'),
    `builds:\n  - repository: acme/app\n    source: file://${dir}/nowhere\n    image: localhost:5000/acme/app\n    rules:\n      - type: branch\n        name: /.*/\n        tag: "{sourceref}"\n      - type: tag\n        name: /.*/\n        tag: "{sourceref}-{short_sha}"\n`,
  );
  svc = await startService({
    DOCKOPS_DOCKER_HOSTS: `local=unix://${dir}/no-engine.sock`,
    DOCKOPS_BIND_ALLOWLIST: '/srv/dockops',
    DOCKOPS_KEEP_JOBS: '100000',
    DOCKOPS_JOBS_DIR: jobs,
    SLACK_SIGNING_SECRET: SLACK_SECRET,
    SLACK_ALLOWED_CHANNELS: '*',
    SLACK_DEFAULT_ROLE: 'admin',
    GITHUB_WEBHOOK_SECRET: GH_SECRET,
    DOCKOPS_ARTIFACT_DIR: path.join(dir, 'artifacts'),
  });
  conn = redis();
  queue = new Queue('jobs-local', { connection: conn, prefix: svc.prefix });
});

after(async () => {
  await svc?.stop();
  await queue?.close();
  if (conn) {
    await dropPrefix(conn, svc.prefix);
    conn.disconnect();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** How many inputs each door took and refused: a property that only ever refuses proves little. */
const tally = { api: { in: 0, out: 0 }, slack: { in: 0, out: 0 }, github: { in: 0, out: 0 }, cli: { in: 0, out: 0 } };

async function total(): Promise<number> {
  const c = await queue.getJobCounts();
  return Object.values(c).reduce((a, b) => a + b, 0);
}

/** Nothing the process logged is an unhandled error of a door. */
function doorErrors(): string[] {
  return svc
    .logs()
    .split('\n')
    .filter((l) => /"msg":"(api request failed|slack command failed|github push not enqueued)"|Unhandled|uncaught/i.test(l));
}

function refusalProblem(status: number, body: { message?: string; error?: string }): string | undefined {
  if (status >= 500) return `status ${status}: ${JSON.stringify(body).slice(0, 300)}`;
  if (status >= 400) return clearMessageProblem(body?.message);
  return undefined;
}

test('API door: random JSON bodies and commands never get a 5xx; a refusal enqueues nothing', async () => {
  const body = fc.oneof(
    fc.jsonValue(),
    fc.record({ command: anyText }),
    fc.record({ args: anyWords }),
    fc.record({ command: fc.oneof(anyText, fc.jsonValue()), args: fc.oneof(anyWords, fc.jsonValue()), host: fc.oneof(fc.string(), fc.jsonValue()), door: fc.oneof(fc.constantFrom('api', 'cli', 'slack'), fc.jsonValue()), user: fc.jsonValue() }, { requiredKeys: [] }),
  );
  await checkProperty(
    fc.asyncProperty(body, fc.option(fc.string({ maxLength: 250 }), { nil: undefined }), async (b, key) => {
      const before = await total();
      const headers: Record<string, string> = key !== undefined && /^[\x20-\x7e]*$/.test(key) ? { 'idempotency-key': key } : {};
      const res = await api(svc, 'POST', '/api/jobs', JSON.stringify(b), headers);
      const after = await total();
      assert.equal(refusalProblem(res.status, res.body), undefined, JSON.stringify(b).slice(0, 300));
      if (res.status === 202) {
        assert.ok(after - before <= 1, 'one request, at most one job');
        if (after > before) accepted.add(res.body.id);
        tally.api.in++;
        const words = (b as { args?: string[]; command?: string }).args ?? (b as { command: string }).command;
        assert.equal(throughParseAndPolicy(words), undefined, `accepted but unsafe: ${JSON.stringify(b).slice(0, 300)}`);
      } else {
        tally.api.out++;
        assert.equal(after, before, `refused (${res.status}) but enqueued: ${JSON.stringify(b).slice(0, 300)}`);
      }
    }),
    { numRuns: E2E_RUNS },
  );
  assert.ok(tally.api.in > 0 && tally.api.out > 0, JSON.stringify(tally.api));
  // A body that is not JSON at all, and one over the cap.
  for (const raw of ['{', '\u0000', 'null', '"ps"', '[]', 'x'.repeat(20_000), '{"command":"' + 'a'.repeat(1024 * 1024) + '"}']) {
    const res = await api(svc, 'POST', '/api/jobs', raw);
    assert.ok(res.status >= 400 && res.status < 500, `${raw.slice(0, 20)} → ${res.status}`);
    assert.equal(clearMessageProblem(res.body.message), undefined, raw.slice(0, 40));
  }
  assert.deepEqual(doorErrors(), []);
});

test('the injection corpus through the API door: refused clearly, or enqueued as a safe job', async () => {
  for (const { line, text } of injectionCorpus()) {
    const before = await total();
    const res = await api(svc, 'POST', '/api/jobs', { command: text });
    const after = await total();
    assert.equal(refusalProblem(res.status, res.body), undefined, `injection.txt:${line}`);
    if (res.status === 202) {
      assert.equal(throughParseAndPolicy(text), undefined, `injection.txt:${line} accepted but unsafe`);
      accepted.add(res.body.id);
    } else assert.equal(after, before, `injection.txt:${line} refused (${res.status}) but enqueued`);
  }
  assert.deepEqual(doorErrors(), []);
});

test('Slack door: signed slash commands with random text are always acked, refusals enqueue nothing', async () => {
  await checkProperty(
    fc.asyncProperty(fc.oneof(anyText, fc.string({ unit: 'binary', maxLength: 300 })), async (text) => {
      const before = await total();
      const res = await postSigned(svc.url, slashCommand({ text, responseUrl: 'http://127.0.0.1:1/hostile' }), SLACK_SECRET);
      const after = await total();
      assert.equal(res.status, 200, `${JSON.stringify(text).slice(0, 200)} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      const answer = String(res.body?.text ?? '');
      assert.ok(answer.length > 0, 'Slack gets an answer');
      assert.doesNotMatch(answer, /internal error|\n\s+at \S/);
      if (res.body.response_type === 'in_channel' || /only you will see the answer/.test(answer)) {
        tally.slack.in++;
        assert.equal(after - before, 1, 'queued: one job');
        assert.equal(throughParseAndPolicy(text), undefined, `accepted but unsafe: ${JSON.stringify(text)}`);
      } else {
        tally.slack.out++;
        assert.equal(after, before, `answered ${answer.slice(0, 100)} but enqueued`);
        if (!/confirm to run/.test(answer) && !/^```\s*Usage/.test(answer)) assert.equal(clearMessageProblem(answer.replace(/```/g, '')), undefined);
      }
    }),
    { numRuns: E2E_RUNS },
  );
  assert.ok(tally.slack.in > 0 && tally.slack.out > 0, JSON.stringify(tally.slack));
  assert.deepEqual(doorErrors(), []);
});

const sha = fc.stringMatching(/^[0-9a-f]{40}$/);
const pushPayload = fc.record(
  {
    ref: fc.oneof(fc.constantFrom('refs/heads/main', 'refs/tags/v1.2.3', 'refs/heads/$(id)', 'refs/heads/../../x', 'refs/heads/a;b', 'refs/tags/\u202eexe', 'refs/heads/' + 'x'.repeat(300)), fc.string().map((s) => `refs/heads/${s}`), fc.string().map((s) => `refs/tags/${s}`), fc.jsonValue()),
    after: fc.oneof(sha, fc.string(), fc.jsonValue()),
    before: fc.oneof(sha, fc.jsonValue()),
    deleted: fc.oneof(fc.boolean(), fc.jsonValue()),
    repository: fc.oneof(
      fc.record({ full_name: fc.oneof(fc.constant('acme/app'), fc.string()), name: fc.oneof(fc.string(), fc.jsonValue()), html_url: fc.oneof(fc.webUrl(), fc.string(), fc.jsonValue()), clone_url: fc.oneof(fc.webUrl(), fc.string(), fc.constant('file:///etc')) }, { requiredKeys: ['full_name'] }),
      fc.jsonValue(),
    ),
    commits: fc.oneof(fc.array(fc.record({ id: fc.oneof(sha, fc.string()), added: fc.array(fc.string()), modified: fc.array(fc.string()), removed: fc.array(fc.oneof(fc.string(), fc.jsonValue())) }, { requiredKeys: [] }), { maxLength: 3 }), fc.jsonValue()),
    head_commit: fc.oneof(fc.constant(null), fc.jsonValue()),
  },
  { requiredKeys: [] },
);

/** A push GitHub could send, with hostile branch and tag names and changed-file lists. */
const plausiblePush = fc.record({
  ref: fc.oneof(fc.constantFrom('main', 'v1.2.3', '$(id)', '../../x', 'a;b', '\u202eexe', '-rf', '--upload-pack=touch /tmp/x', 'x'.repeat(300), '{sourceref}'), fc.string({ maxLength: 40 })).chain((name) => fc.constantFrom(`refs/heads/${name}`, `refs/tags/${name}`)),
  after: sha,
  before: sha,
  deleted: fc.constant(false),
  repository: fc.record({ full_name: fc.constantFrom('acme/app', 'ACME/App', 'acme/other'), clone_url: fc.oneof(fc.constant('https://github.com/acme/app.git'), fc.string()), html_url: fc.webUrl(), name: fc.string() }),
  commits: fc.array(fc.record({ added: fc.array(fc.string()), modified: fc.array(fc.string()), removed: fc.array(fc.string()) }), { maxLength: 3 }),
});

test('GitHub door: correctly signed random payloads never get a 5xx; what is enqueued is a valid build', async () => {
  const event = fc.oneof(fc.constantFrom('push', 'push', 'push', 'ping', 'create', 'delete', 'release'), fc.string({ maxLength: 20 }));
  await checkProperty(
    fc.asyncProperty(event, fc.oneof(plausiblePush, plausiblePush, pushPayload, fc.jsonValue()), fc.oneof(fc.uuid(), fc.uuid(), fc.string({ maxLength: 60 })), async (ev, payload, delivery) => {
      const body = JSON.stringify(payload) ?? 'null';
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', GH_SECRET).update(body).digest('hex')}`,
        'user-agent': 'GitHub-Hookshot/hostile',
      };
      // Header values must be sendable at all (fetch refuses control characters itself).
      if (/^[\x20-\x7e]*$/.test(ev)) headers['x-github-event'] = ev;
      if (/^[\x20-\x7e]*$/.test(delivery)) headers['x-github-delivery'] = delivery;
      const before = await total();
      const res = await fetch(`${svc.url}/webhooks/github`, { method: 'POST', headers, body });
      const text = await res.text();
      const after = await total();
      let json: { message?: string; jobs?: string[]; ignored?: string } = {};
      try {
        json = JSON.parse(text);
      } catch {
        assert.fail(`not JSON (${res.status}): ${text.slice(0, 300)}`);
      }
      assert.ok(res.status < 500, `${res.status} ${text.slice(0, 300)} for ${body.slice(0, 300)}`);
      if (res.status >= 400) assert.equal(clearMessageProblem(json.message), undefined);
      if (json.ignored !== undefined) assert.equal(clearMessageProblem(json.ignored), undefined);
      if (!json.jobs) {
        tally.github.out++;
        assert.equal(after, before, `answered ${res.status} without jobs but enqueued`);
        return;
      }
      tally.github.in++;
      for (const id of json.jobs) {
        accepted.add(id);
        const job = await queue.getJob(id);
        assert.ok(job, `job ${id} is in the queue`);
        const d = JobData.safeParse(job.data);
        assert.ok(d.success, `job ${id} carries invalid data`);
        const spec = d.data.spec as { kind: string; tags?: string[] };
        assert.equal(spec.kind, 'autobuild');
        for (const t of spec.tags ?? []) assert.ok(isValidRef(t), `invalid image tag ${JSON.stringify(t)} enqueued from ${body.slice(0, 200)}`);
      }
    }),
    { numRuns: E2E_RUNS },
  );
  assert.ok(tally.github.in > 0 && tally.github.out > 0, JSON.stringify(tally.github));
  assert.deepEqual(doorErrors(), []);
});

const CLIENT_FILE_VERBS = /^(build|image build|builder|load|image load|import|image import|cp|container cp|save|image save|export|container export|login|logout)$/;

test('CLI door: random argument arrays end with docker\'s exit codes and a clear message, never a crash', async () => {
  // Verbs that read or write local files (build DIR, save -o, cp, load -i, --env-file) are fuzzed by
  // the next property, each run in a directory of its own: random paths here would use the test machine's.
  const args = fc.oneof(verbWords, anyWords).filter((w) => !CLIENT_FILE_VERBS.test(w.filter((x) => !x.startsWith('-') && x !== 'local').slice(0, 2).join(' ')) && !CLIENT_FILE_VERBS.test(w.find((x) => !x.startsWith('-') && x !== 'local') ?? '') && !w.some((x) => /env-file|label-file/.test(x)))
    // argv cannot hold a NUL (no shell or exec can pass one): the API's "args" test covers it.
    .map((w) => w.map((x) => x.replace(/\u0000/g, '')));
  await checkProperty(
    fc.asyncProperty(args, async (words) => {
      const before = await total();
      const r = await cli(svc, words, { HOME: dir });
      const after = await total();
      const what = JSON.stringify(words).slice(0, 300);
      assert.notEqual(r.code, null, `killed: ${what}`);
      assert.doesNotMatch(r.stderr, /\n\s+at \S|TypeError|ReferenceError|\[object Object\]/, what);
      if (r.code === 0 || /Cannot connect to the Docker daemon/.test(r.stderr)) tally.cli.in++;
      else tally.cli.out++;
      if (r.code === 0) return;
      assert.ok([1, 2, 125, 126, 127].includes(r.code as number), `exit ${r.code} for ${what}: ${r.stderr.slice(0, 300)}`);
      assert.equal(clearMessageProblem(r.stderr), undefined, what);
      // Refused before enqueueing (usage, policy: 125) means nothing was enqueued.
      if (r.code === 125 && !/Cannot connect|no worker/.test(r.stderr)) assert.equal(after, before, `exit 125 but enqueued: ${what}`);
    }),
    { numRuns: Number(process.env.DOCKOPS_FUZZ_CLI_RUNS ?? 100) },
  );
  assert.ok(tally.cli.in > 0 && tally.cli.out > 0, JSON.stringify(tally.cli));
  assert.deepEqual(doorErrors(), []);
});

test('CLI door: `run --env-file F` is the CLI\'s to read, not node\'s (Node 20 reads --env-file anywhere in argv)', async () => {
  const run = mkdtempSync(path.join(os.tmpdir(), 'dockops-envfile-'));
  try {
    writeFileSync(path.join(run, 'evil.cjs'), `require('node:fs').writeFileSync(${JSON.stringify(path.join(run, 'ran'))}, 'x');`);
    writeFileSync(path.join(run, 'app.env'), `NODE_OPTIONS=--require ${path.join(run, 'evil.cjs')}\nA=1\n`);
    for (const words of [['run', '--env-file', 'app.env', 'busybox'], ['run', '--env-file=app.env', 'busybox'], ['--host', 'local', 'create', '--env-file', 'app.env', 'busybox']]) {
      const r = await cli(svc, words, { HOME: run }, { cwd: run, timeout: 60_000 });
      assert.ok(!existsSync(path.join(run, 'ran')), `${words.join(' ')}: the env file's NODE_OPTIONS ran code in the CLI`);
      assert.doesNotMatch(r.stderr, /^node:/m, words.join(' '));
    }
    const missing = await cli(svc, ['run', '--env-file', 'nope.env', 'busybox'], { HOME: run }, { cwd: run, timeout: 60_000 });
    // docker 20.10's words and exit code for a missing env file.
    assert.equal(missing.code, 125, missing.stderr);
    assert.equal(missing.stderr, "docker: open nope.env: no such file or directory.\nSee 'docker run --help'.\n");
  } finally {
    rmSync(run, { recursive: true, force: true });
  }
});

/**
 * The CLI's file verbs, fuzzed in a fresh directory per run (cwd, HOME and TMPDIR), seeded with small
 * files, a symlink out of it and a dangling one; the words mix those names, `-`, `..` paths, absolute
 * paths to files of the machine (read only: the service has no engine, so no job ever succeeds and
 * nothing is downloaded; the property checks that nothing was written anyway) and random words.
 */
const FILE_VERBS = ['build', 'image build', 'load', 'image load', 'import', 'image import', 'cp', 'container cp', 'save', 'image save', 'export', 'container export', 'login', 'run', 'create', 'container run', 'container create'];
const SEEDED = ['ctx.tar', 'ctx', 'ctx/', 'ctx/Dockerfile', 'Dockerfile.alt', 'env.list', 'labels.list', 'rand.bin', 'outside', 'dangling', 'up', 'up/x', 'missing', 'new.tar', 'newdir/', 'out/new.tar', '.', './ctx', 'ctx/../env.list', '../env.list', '../../etc/passwd', '../run-x/ctx.tar', '/etc/passwd', '/etc/hostname', '/etc/passwd/x', '/nonexistent/file', '-', '--'];
const CONTAINERS = ['busybox', 'busybox:latest', 'c1:/etc/hostname', 'c1:/', 'c1:/tmp/', 'hostile-ctr:/x', 'c1:../../x', 'artifact:0123456789abcdef01234567', 'artifact:../x', 'localhost:5000/x', 'https://127.0.0.1:1/ctx.tar'];
const VALUE_FLAGS = ['-o', '--output', '-i', '--input', '-f', '--file', '-t', '--tag', '-u', '--username', '-p', '--password', '--env-file', '--label-file', '-c', '--change', '-m', '--message', '--platform', '--build-arg', '--iidfile', '-e', '--name', '-v'];
const BARE_FLAGS = ['-q', '-L', '--follow-link', '-a', '--archive', '--password-stdin', '--rm', '-d', '--no-cache', '--pull', '-it', '--help', '--quiet', '-'];
// Hostile pieces, but not '/' or '//': `cp / c:/x` and `build /` would pack the whole machine (slow, not unsafe).
const SAFE_PIECES = [';', '$(id)', '`id`', '|', '>', '*', '~', '${HOME}', "'", '"', '\\', '\n', '\u202e', '\ud83d\ude00', 'a'.repeat(300), '%s', '{{json .}}'];

const fileName = fc.constantFrom(...SEEDED);
const fileWord: fc.Arbitrary<string[]> = fc.oneof(
  fileName.map((n) => [n]),
  fc.constantFrom(...CONTAINERS).map((c) => [c]),
  fc.constantFrom(...BARE_FLAGS).map((f) => [f]),
  fc.tuple(fc.constantFrom(...VALUE_FLAGS), fc.oneof(fileName, fileName, fc.constantFrom(...CONTAINERS), fc.string({ maxLength: 10 }).filter((w) => !/^[./]*\/[./]*$/.test(w))), fc.integer({ min: 0, max: 2 })).map(([f, v, style]) =>
    style === 0 ? [f, v] : style === 1 || f.startsWith('--') ? [`${f}=${v}`] : [`${f}${v}`],
  ),
  fc.constantFrom(...SAFE_PIECES).map((p) => [p]),
  // Not only slashes and dots ('/', '/.', '../..'): `cp / c:/x` and `build /.` would pack the whole machine.
  fc.string({ maxLength: 12 }).filter((w) => !/^[./]*\/[./]*$/.test(w) && !/^\.\.\/\.\./.test(w)).map((w) => [w]),
);
const fileArgs: fc.Arbitrary<string[]> = fc
  .tuple(fc.constantFrom(...FILE_VERBS), fc.array(fileWord, { maxLength: 6 }), fc.integer({ min: 0, max: 5 }))
  .map(([verb, words, host]) => [...(host === 0 ? ['--host', 'local'] : host === 1 ? ['-H', 'nowhere'] : []), ...verb.split(' '), ...words.flat()].map((x) => x.replace(/\u0000/g, '')));
/** Stdin: /dev/null, random bytes, a real tar, a password line. */
const stdinBytes = fc.oneof(fc.constant(undefined), fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)), fc.constantFrom('tar', 'password'));

/** Top-level names (and mtimes) of the places a CLI run must not write to. */
function snapshot(dirs: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const d of dirs) {
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) m.set(path.join(d, n), lstatSync(path.join(d, n), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  }
  for (const f of ['/etc/passwd', '/etc/hostname', path.join(ROOT, 'package.json')]) m.set(f, statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? -1);
  return m;
}

/** Temporary files the CLI makes (download targets, cp scratch): none may outlive a run. */
const CLI_TEMP = /\.dockops-(follow|partial)$|^\.?dockops-cp-/;

function leftovers(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (CLI_TEMP.test(e.name)) out.push(path.join(e.parentPath, e.name));
  return out;
}

test('CLI door, file verbs: random words in a directory of their own never crash, always say why, write nowhere else', async (t) => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'dockops-clifiles-'));
  const tar = path.join(base, 'seed.tar');
  writeFileSync(path.join(base, 'hello.txt'), 'hello\n');
  assert.equal(spawnSync('tar', ['-c', '-f', tar, '-C', base, 'hello.txt']).status, 0);
  const tarBytes = readFileSync(tar);
  rmSync(path.join(base, 'hello.txt'));
  const realHome = os.homedir();
  const watched = [ROOT, os.tmpdir(), realHome, path.join(ROOT, 'test'), path.join(ROOT, 'src')];
  const tally = { ok: 0, refused: 0, failedJob: 0 };
  let n = 0;
  try {
    await checkProperty(
      fc.asyncProperty(fileArgs, stdinBytes, async (words, stdin) => {
        const run = path.join(base, `run-${n++}`);
        mkdirSync(path.join(run, 'ctx'), { recursive: true });
        writeFileSync(path.join(run, 'ctx.tar'), tarBytes);
        writeFileSync(path.join(run, 'ctx', 'Dockerfile'), 'FROM busybox\nRUN true\n');
        writeFileSync(path.join(run, 'ctx', 'hello.txt'), 'hello\n');
        writeFileSync(path.join(run, 'Dockerfile.alt'), 'FROM busybox\n');
        writeFileSync(path.join(run, 'env.list'), 'A=1\n# comment\nB\nC=$(id)\n');
        writeFileSync(path.join(run, 'labels.list'), 'x=y\n');
        writeFileSync(path.join(run, 'rand.bin'), randomBytes(1 + (n % 3000)));
        symlinkSync('/etc/passwd', path.join(run, 'outside'));
        symlinkSync('/nonexistent/dockops', path.join(run, 'dangling'));
        symlinkSync(base, path.join(run, 'up'));
        const before = snapshot(watched);
        const input = stdin === 'tar' ? tarBytes : stdin === 'password' ? Buffer.from('hunter2\n') : stdin;
        const r = await cli(svc, words, { HOME: run, TMPDIR: run, XDG_CONFIG_HOME: path.join(run, '.config') }, { cwd: run, stdin: input, timeout: 60_000 });
        const after = snapshot(watched);
        const what = `${JSON.stringify(words).slice(0, 300)} stdin=${stdin === undefined ? 'null' : typeof stdin === 'string' ? stdin : `${stdin.length} bytes`}`;
        try {
          assert.notEqual(r.code, null, `killed or hung: ${what}: ${r.stderr.slice(0, 300)}`);
          assert.doesNotMatch(r.stderr, /\n\s+at \S|TypeError|ReferenceError|RangeError|Unhandled|unhandled|\[object Object\]/, `${what}: ${r.stderr.slice(0, 500)}`);
          if (r.code === 0) tally.ok++;
          else if (/Cannot connect to the Docker daemon|failed/.test(r.stderr)) tally.failedJob++;
          else tally.refused++;
          if (r.code !== 0) {
            assert.ok([1, 2, 125, 126, 127].includes(r.code as number), `exit ${r.code} for ${what}: ${r.stderr.slice(0, 300)}`);
            assert.equal(clearMessageProblem(r.stderr), undefined, what);
          }
          // Other processes share /tmp and HOME: there, only what this run could have named counts.
          const named = new Set(words.flatMap((w) => [w, path.basename(w.replace(/^[^=]*=/, ''))]));
          const ours = (k: string) => CLI_TEMP.test(path.basename(k)) || named.has(path.basename(k)) || /partial|follow|^copy|\.tar$/.test(path.basename(k));
          const shared = (k: string) => k.startsWith(os.tmpdir() + path.sep) || k.startsWith(realHome + path.sep + '.');
          const added = [...after.keys()].filter((k) => !before.has(k) && !k.startsWith(base) && (!shared(k) || ours(k)));
          const changed = [...before.entries()].filter(([k, t]) => after.has(k) && after.get(k) !== t && !shared(k));
          assert.deepEqual(added, [], `written outside the run's directory: ${what}`);
          assert.deepEqual(changed.map(([k]) => k), [], `changed outside the run's directory: ${what}`);
          assert.deepEqual(readdirSync(base).filter((e) => e !== 'seed.tar' && e !== path.basename(run)), [], `written beside the run's directory: ${what}`);
          assert.deepEqual(leftovers(run), [], `temporary files left: ${what}`);
          assert.ok(existsSync(path.join(run, 'ctx.tar')), `a seeded file is gone: ${what}`);
        } finally {
          rmSync(run, { recursive: true, force: true });
        }
      }),
      { numRuns: Number(process.env.DOCKOPS_FUZZ_CLI_FILE_RUNS ?? 100) },
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  t.diagnostic(`file verbs: ${JSON.stringify(tally)}`);
  assert.ok(tally.refused > 0 && tally.failedJob > 0, JSON.stringify(tally));
  assert.deepEqual(doorErrors(), []);
});

test('everything in the queue is a job some door accepted, with valid data', async (t) => {
  const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized'], 0, 100_000);
  for (const job of jobs) {
    const d = JobData.safeParse(job.data);
    assert.ok(d.success, `job ${job.id} carries invalid data`);
    if (d.data.origin.door === 'api' || d.data.origin.door === 'slack') {
      assert.equal(throughParseAndPolicy(d.data.command), undefined, `job ${job.id}: ${d.data.command.slice(0, 200)}`);
    }
  }
  for (const id of accepted) {
    if (jobs.some((j) => j.id === id)) continue;
    // A later push to the same ref removes a build still waiting (builds/supersede.ts) and says so.
    const superseded = JSON.parse((await conn.get(supersededKey(svc.prefix, id))) ?? '{}') as { how?: string };
    assert.equal(superseded.how, 'removed', `accepted job ${id} is in the queue, or was removed as superseded`);
  }
  assert.ok(svc.proc.exitCode === null, 'the service is still up');
  t.diagnostic(`taken/refused per door: ${JSON.stringify(tally)}; ${jobs.length} jobs in the queue`);
});
