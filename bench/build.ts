/**
 * bench/build: the same build context built by dockops and by the docker CLI on the same engine.
 *
 * A git repository (offline, FROM busybox:latest) with 5 MB of files and RUN steps that write and
 * hash 64 MB, served by `git daemon` on 127.0.0.1, is built with the cache off, in turn:
 * - `dockops docker build --no-cache -t … git://127.0.0.1:PORT/repo#main` (the compiled CLI → API →
 *   Redis → worker, which fetches the commit with git, packs the context honouring .dockerignore,
 *   and streams it to the engine; the CLI follows the output to the end);
 * - `/usr/bin/docker build --no-cache -t … git://127.0.0.1:PORT/repo#main`: the same source, which
 *   the docker CLI clones itself (Debian's client, the engine's own version; legacy builder, as
 *   dockops uses) — the like-for-like baseline;
 * - `/usr/bin/docker build --no-cache -t … DIR` of a checkout already on disk (no fetch at all).
 * Medians and their ratios (target ≤ 1.05).
 *
 * Run: `npm run bench:build` with the stack up. Writes its section of bench/RESULTS.md. Every image
 * it makes carries the label bench.run=<id> and is removed at the end.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ROOT, ms, quantile, writeSection } from './results.js';

const DOCKER_HOST = process.env.DOCKER_HOST ?? 'unix:///run/dockops/docker.sock';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CLI = '/usr/bin/docker';
const RUNS = Number(process.env.BENCH_BUILD_RUNS ?? 6);
const env = { ...process.env, DOCKER_HOST };

const DOCKERFILE = `FROM busybox:latest
COPY data /data
RUN sha256sum /data/* > /sums
RUN dd if=/dev/urandom of=/blob bs=1M count=64 2>/dev/null && sha256sum /blob > /blob.sum
RUN for i in $(seq 1 20000); do echo "line $i"; done > /lines && wc -l /lines
RUN rm /blob && ls -l / > /listing
`;

async function startService() {
  const token = randomBytes(16).toString('hex');
  const prefix = `bench-build-${randomBytes(4).toString('hex')}`;
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), 'start'], {
    env: { ...env, REDIS_URL, DOCKOPS_PORT: '0', DOCKOPS_ANNOUNCE: '1', DOCKOPS_API_TOKENS: `bench:${token}`, DOCKOPS_QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    proc.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`service exited ${code}: ${err}`)));
  });
  return { url, token, prefix, proc };
}

/** A free port on 127.0.0.1 (listen on 0, read it, close). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function main() {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const run = randomBytes(4).toString('hex');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dockops-bench-build-'));
  const repo = path.join(tmp, 'repo');
  mkdirSync(path.join(repo, 'data'), { recursive: true });
  writeFileSync(path.join(repo, 'Dockerfile'), DOCKERFILE);
  // The docker CLI sends the directory as it is; dockops never sends .git: the same context both ways.
  writeFileSync(path.join(repo, '.dockerignore'), '.git\n');
  for (let i = 0; i < 50; i++) writeFileSync(path.join(repo, 'data', `f${i}.bin`), randomBytes(100 * 1024));
  const git = (...a: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=b', '-c', 'user.email=b@b', ...a]);
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'bench');

  const port = await freePort();
  const daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${tmp}`, '--listen=127.0.0.1', `--port=${port}`, tmp], { stdio: 'ignore' });
  const gitUrl = `git://127.0.0.1:${port}/repo#main`;
  for (let i = 0; i < 100 && spawnSync('git', ['ls-remote', gitUrl.split('#')[0]]).status !== 0; i++) await new Promise((res) => setTimeout(res, 100));

  const svc = await startService();
  const ours = `localhost:5000/dockops-bench-build-${run}:dockops`;
  const theirs = `localhost:5000/dockops-bench-build-${run}:docker`;
  const builds = {
    dockops: () => spawnSync(process.execPath, [path.join(ROOT, 'dist/main.js'), 'docker', 'build', '--no-cache', '--label', `bench.run=${run}`, '-t', ours, gitUrl], { env: { ...env, DOCKOPS_API_URL: svc.url, DOCKOPS_TOKEN: svc.token }, maxBuffer: 1 << 26 }),
    'docker git': () => spawnSync(CLI, ['build', '--no-cache', '--label', `bench.run=${run}`, '-t', theirs, gitUrl], { env, maxBuffer: 1 << 26 }),
    'docker dir': () => spawnSync(CLI, ['build', '--no-cache', '--label', `bench.run=${run}`, '-t', theirs, repo], { env, maxBuffer: 1 << 26 }),
  };
  type Who = keyof typeof builds;
  const times: Record<Who, number[]> = { dockops: [], 'docker git': [], 'docker dir': [] };
  // Warm-up: page cache, the service's connections.
  for (const b of Object.values(builds)) b();
  for (let i = 0; i < RUNS; i++) {
    const order: Who[] = i % 2 ? ['dockops', 'docker git', 'docker dir'] : ['docker dir', 'docker git', 'dockops'];
    for (const who of order) {
      const t0 = process.hrtime.bigint();
      const r = builds[who]();
      times[who].push(ms(t0));
      if (r.status !== 0) throw new Error(`${who} build exited ${r.status}: ${r.stderr}`);
    }
  }

  svc.proc.kill('SIGTERM');
  await new Promise((res) => svc.proc.once('exit', res));
  daemon.kill('SIGTERM');
  spawnSync(CLI, ['rmi', ours, theirs], { env });
  spawnSync(CLI, ['image', 'prune', '-f', '--filter', `label=bench.run=${run}`], { env });
  const r = new Redis(REDIS_URL);
  const keys = await r.keys(`${svc.prefix}:*`);
  if (keys.length) await r.del(...keys);
  r.disconnect();
  rmSync(tmp, { recursive: true, force: true });

  const med = (xs: number[]) => quantile(xs, 0.5);
  const version = spawnSync(CLI, ['--version']).stdout.toString().trim().replace(/^Docker version /, 'v');
  const row = (what: string, t: number[]) => `| ${what} | ${med(t).toFixed(0)} | ${Math.min(...t).toFixed(0)} | ${Math.max(...t).toFixed(0)} |`;
  const md = `
## bench/build — one context built by dockops and by the docker CLI, cache off

\`npm run bench:build\` (bench/build.ts; method in bench/README.md). Last run: ${new Date().toISOString()}; ${RUNS} builds
each in turn after one warm-up, same engine (legacy builder), \`--no-cache\`; 5 MB of files, 64 MB written and
hashed; the source is a git repository served by \`git daemon\` on 127.0.0.1.

| build | median ms | min ms | max ms |
|---|---|---|---|
${row('dockops docker build git://…#main (CLI → API → worker: git fetch, pack, engine)', times.dockops)}
${row(`${CLI} build git://…#main (${version}: the CLI clones, then sends)`, times['docker git'])}
${row(`${CLI} build DIR (a checkout already on disk: no fetch)`, times['docker dir'])}

- dockops / docker, the same git source: **${(med(times.dockops) / med(times['docker git'])).toFixed(3)}** (target ≤ 1.05)
- dockops / docker of a directory already checked out: **${(med(times.dockops) / med(times['docker dir'])).toFixed(3)}** (dockops only builds from git: the fetch is part of its build)
`;
  writeSection('build', md);
  process.stdout.write(md);
}

main().then(() => process.exit(0)).catch((err) => {
  console.error(err);
  process.exit(1);
});
