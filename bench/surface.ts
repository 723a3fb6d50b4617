/**
 * bench/surface: the docker command surface at scale (issue 3).
 *
 * 1. `images`, `ps -a` and `inspect` through `dockops docker` (compiled build, through the API and
 *    the worker) against the docker CLI on an engine holding 200 extra containers (created, not
 *    started) and 100 extra image tags. Alternating runs, medians, ratio.
 * 2. `save -o` and `load -i` of a 500 MiB image through dockops — the CLI door (streamed through the
 *    artifact store and the CLI's download/upload) and the API door (the job alone: artifact in the
 *    store) — against `docker save -o` / `docker load -i`, and the
 *    service's peak RSS (VmHWM of the process running the API and the worker).
 *
 * Run: `npm run bench:surface` with the stack up. Appends its section to bench/RESULTS.md.
 * Everything it creates carries the label/name prefix dockops-bench and is removed at the end.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, writeSection } from './results.js';

const DOCKER_HOST = process.env.DOCKER_HOST ?? 'unix:///run/dockops/docker.sock';
const CLI = '/usr/bin/docker';
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const SAVE_RUNS = Number(process.env.BENCH_SAVE_RUNS ?? 3);

const env = { ...process.env, DOCKER_HOST };
const docker = (...a: string[]) => execFileSync(CLI, a, { env, encoding: 'utf8', maxBuffer: 1 << 26 });
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const tag = `dockops-bench-${randomBytes(3).toString('hex')}`;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dockops-bench-'));
  const artifacts = path.join(tmp, 'artifacts');
  // Scale: 200 containers, 100 image tags.
  const ids: string[] = [];
  for (let i = 0; i < 200; i++) ids.push(docker('create', '--label', `dockops-bench=${tag}`, '--name', `${tag}-c${i}`, 'busybox:latest', 'true').trim());
  for (let i = 0; i < 100; i++) docker('tag', 'busybox:latest', `${tag}/img${i}:v${i}`);
  const big = `${tag}/big:1`;
  execFileSync(CLI, ['build', '-q', '-t', big, '-'], { env, input: 'FROM busybox:latest\nRUN head -c 524288000 /dev/urandom > /big\n' });

  const token = randomBytes(16).toString('hex');
  // The API (`serve`) and the worker (`worker --host local`) in processes of their own, as deployed:
  // the worker's peak RSS is the figure the issue sets a target for.
  const svcEnv = { ...env, DOCKOPS_API_TOKENS: `bench:${token}`, DOCKOPS_QUEUE_PREFIX: tag, DOCKOPS_ARTIFACT_DIR: artifacts, LOG_LEVEL: 'warn' };
  const svc = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), 'serve'], { env: { ...svcEnv, DOCKOPS_PORT: '0', DOCKOPS_ANNOUNCE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  const worker = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), 'worker', '--host', 'local'], { env: svcEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = await new Promise<string>((resolve) => {
    let e = '';
    svc.stderr.on('data', (c: Buffer) => {
      e += c;
      const m = /listening on (\S+)/.exec(e);
      if (m) resolve(m[1]);
    });
  });
  const cenv = { ...env, DOCKOPS_API_URL: url, DOCKOPS_TOKEN: token };
  const ours = (...a: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'dist/main.js'), 'docker', ...a], { env: cenv, maxBuffer: 1 << 26 });
  const theirs = (...a: string[]) => spawnSync(CLI, a, { env, maxBuffer: 1 << 26 });

  // The API door as a script or chat bot uses it: one HTTP request that waits for the answer (curl).
  const viaApi = (...a: string[]) =>
    spawnSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-H', `authorization: Bearer ${token}`, '-H', 'content-type: application/json', '--data-binary', JSON.stringify({ args: a }), `${url}/api/jobs?wait=30`], { encoding: 'utf8' });
  const rows: string[] = [];
  for (const [name, args] of [
    ['images', ['images']],
    ['ps -a', ['ps', '-a']],
    ['inspect (20 containers)', ['inspect', ...ids.slice(0, 20)]],
  ] as Array<[string, string[]]>) {
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    ours(...args);
    theirs(...args);
    viaApi(...args);
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 ? ['ours', 'api', 'theirs'] : ['theirs', 'api', 'ours'];
      for (const who of order) {
        const t0 = process.hrtime.bigint();
        if (who === 'api') {
          const code = viaApi(...args).stdout;
          c.push(ms(t0));
          if (code !== '200') throw new Error(`api ${name}: HTTP ${code}`);
          continue;
        }
        const r = who === 'ours' ? ours(...args) : theirs(...args);
        (who === 'ours' ? a : b).push(ms(t0));
        if (r.status !== 0) throw new Error(`${who} ${name}: ${r.stderr}`);
      }
    }
    rows.push(`| ${name} | ${median(a).toFixed(1)} | ${median(c).toFixed(1)} | ${median(b).toFixed(1)} | **${(median(a) / median(b)).toFixed(2)}** | **${(median(c) / median(b)).toFixed(2)}** |`);
  }

  const file = (n: string) => path.join(tmp, n);
  const t = (f: () => void) => {
    const t0 = process.hrtime.bigint();
    f();
    return ms(t0);
  };
  // save and load: the CLI door (download to a file / upload from one), the API door (the job alone:
  // `save -o` makes an artifact in the store, `load -i artifact:ID` reads one uploaded beforehand,
  // untimed) and the docker CLI, SAVE_RUNS rounds in rotating order; medians. A load starts with the
  // image removed (a real load: layers written), which the next load's removal undoes.
  type Who = 'ours' | 'api' | 'theirs';
  const saves: Record<Who, number[]> = { ours: [], api: [], theirs: [] };
  const loads: Record<Who, number[]> = { ours: [], api: [], theirs: [] };
  const check = (who: string, r: { status: number | null; stderr: string | Buffer }) => {
    if (r.status !== 0) throw new Error(`${who}: ${r.stderr.toString()}`);
  };
  const apiJob = (...a: string[]) => {
    const r = spawnSync('curl', ['-sS', '-X', 'POST', '-H', `authorization: Bearer ${token}`, '-H', 'content-type: application/json', '--data-binary', JSON.stringify({ args: a }), `${url}/api/jobs?wait=60`], { encoding: 'utf8' });
    const v = JSON.parse(r.stdout || '{}') as { done?: boolean; job?: { result?: { exitCode?: number } } };
    return { status: v.done && v.job?.result?.exitCode === 0 ? 0 : 1, stderr: r.stdout.slice(0, 500) + r.stderr };
  };
  const upload = (f: string) => {
    const r = spawnSync('curl', ['-sS', '-X', 'POST', '-H', `authorization: Bearer ${token}`, '--data-binary', `@${f}`, `${url}/api/artifacts?name=big.tar`], { encoding: 'utf8', maxBuffer: 1 << 20 });
    return (JSON.parse(r.stdout) as { id: string }).id;
  };
  const orders: Who[][] = [['theirs', 'api', 'ours'], ['ours', 'theirs', 'api'], ['api', 'ours', 'theirs']];
  for (let i = 0; i < SAVE_RUNS; i++) {
    const order = orders[i % orders.length]!;
    for (const who of order) {
      saves[who].push(t(() => check(who, who === 'ours' ? ours('save', '-o', file('ours.tar'), big) : who === 'api' ? apiJob('save', '-o', 'big.tar', big) : theirs('save', '-o', file('theirs.tar'), big))));
    }
    const uploaded = upload(file('theirs.tar'));
    for (const who of order) {
      docker('rmi', big);
      loads[who].push(t(() => check(who, who === 'ours' ? ours('load', '-q', '-i', file('ours.tar')) : who === 'api' ? apiJob('load', '-q', '-i', `artifact:${uploaded}`) : theirs('load', '-q', '-i', file('theirs.tar')))));
    }
  }
  const [saveOurs, saveApi, saveTheirs, loadOurs, loadApi, loadTheirs] = [saves.ours, saves.api, saves.theirs, loads.ours, loads.api, loads.theirs].map((xs) => median(xs)!);
  const peak = (pid?: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  const hwm = peak(worker.pid);
  const apiHwm = peak(svc.pid);
  worker.kill('SIGTERM');
  svc.kill('SIGTERM');

  // Clean up everything this run made.
  spawnSync(CLI, ['rm', '-f', ...ids], { env });
  for (let i = 0; i < 100; i++) spawnSync(CLI, ['rmi', `${tag}/img${i}:v${i}`], { env });
  spawnSync(CLI, ['rmi', big], { env });
  rmSync(tmp, { recursive: true, force: true });
  execFileSync('redis-cli', ['--scan', '--pattern', `${tag}:*`]).toString().split('\n').filter(Boolean).forEach((k) => spawnSync('redis-cli', ['del', k]));

  const md = `
## bench/surface — the command surface at scale (${RUNS} alternating runs each, medians)

Engine with 200 extra containers (created) and 100 extra image tags; dockops is the compiled build
through the API (\`dockops serve\`) and a worker process (\`dockops worker --host local\`); the baseline is Debian's docker CLI (${CLI}). Last run: ${new Date().toISOString()}.

The CLI door (\`dockops docker …\`) is a Node.js program: its own start-up (\`node -e 0\` alone is
most of the docker CLI's whole time here) keeps it above the target. The API door row is the same
job through one HTTP request that waits for the answer (\`curl -X POST …/api/jobs?wait=30\`), as a
script or the Slack door reaches dockops: queue, worker, engine and rendering, without a Node start-up.

| command | dockops CLI ms | dockops API (curl) ms | docker ms | CLI ratio | API ratio (target ≤ 1.5) |
|---|---|---|---|---|---|
${rows.join('\n')}

| 500 MiB image (${SAVE_RUNS} rotating runs, medians) | dockops CLI ms | dockops API (curl) ms | docker ms | CLI ratio | API ratio (target ≤ 1.1) |
|---|---|---|---|---|---|
| save -o | ${saveOurs.toFixed(0)} | ${saveApi.toFixed(0)} | ${saveTheirs.toFixed(0)} | **${(saveOurs / saveTheirs).toFixed(2)}** | **${(saveApi / saveTheirs).toFixed(2)}** |
| load -i | ${loadOurs.toFixed(0)} | ${loadApi.toFixed(0)} | ${loadTheirs.toFixed(0)} | **${(loadOurs / loadTheirs).toFixed(2)}** | **${(loadApi / loadTheirs).toFixed(2)}** |

The API door's save ends with the image in the artifact store (a file on the service's disk, fetched
with \`GET /api/artifacts/:id\` or the job's link); its load reads an artifact uploaded before the
timer starts. The CLI door adds the download to (or upload from) a file beside the caller: two more
processes copy and hash the bytes (the API follows the artifact as it is written; the CLI hashes
what it receives and keeps the file only when the sha256 matches).

Peak RSS over the whole run (VmHWM): the worker process **${hwm.toFixed(0)} MB** (target ≤ 150 MB); the API process ${apiHwm.toFixed(0)} MB.
`;
  writeSection('surface', md);
  process.stdout.write(md);
}

main().then(() => process.exit(0)).catch((err) => {
  console.error(err);
  process.exit(1);
});
