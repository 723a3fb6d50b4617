import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, cli, startService, BIN, type Service } from '../support/service.js';
import { docker, dockerCli, dropPrefix, redis, uniqueName } from '../support/env.js';

let svc: Service;
let dir: string;
let artifactDir: string;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The artifact directories (the directory also keeps the link key, `.link-secret`). */
const artifactIds = () => readdirSync(artifactDir).filter((d) => /^[0-9a-f]{24}$/.test(d));

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-files-'));
  artifactDir = mkdtempSync(path.join(os.tmpdir(), 'dockops-artifacts-'));
  svc = await startService({ DOCKOPS_ARTIFACT_DIR: artifactDir, DOCKOPS_ARTIFACT_MAX_BYTES: String(64 * 1024 * 1024) });
});
after(async () => {
  await svc.stop();
  const r = redis();
  await dropPrefix(r, svc.prefix);
  r.disconnect();
  rmSync(dir, { recursive: true, force: true });
  rmSync(artifactDir, { recursive: true, force: true });
});

test('save -o writes the same tar the docker CLI writes; load -i brings the image back', async () => {
  const tag = `${uniqueName('saved')}:1`;
  assert.equal(dockerCli(['tag', 'busybox:latest', tag]).status, 0);
  try {
    const ours = path.join(dir, 'ours.tar');
    const saved = await cli(svc, ['save', '-o', ours, tag]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal(saved.stdout, '');
    const theirs = path.join(dir, 'theirs.tar');
    assert.equal(dockerCli(['save', '-o', theirs, tag]).status, 0);
    assert.equal(sha(readFileSync(ours)), sha(readFileSync(theirs)), 'byte-identical archive');
    assert.ok(!readdirSync(dir).some((f) => f.includes('partial')), 'no partial file left');

    assert.equal(dockerCli(['rmi', tag]).status, 0);
    const loaded = await cli(svc, ['load', '-i', ours]);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.equal(loaded.stdout, `Loaded image: ${tag}\n`);
    assert.equal(dockerCli(['image', 'inspect', tag]).status, 0);
  } finally {
    dockerCli(['rmi', tag]);
  }
});

test('save to a redirected stdout, load from stdin, as docker does', async () => {
  const tag = `${uniqueName('piped')}:1`;
  assert.equal(dockerCli(['tag', 'busybox:latest', tag]).status, 0);
  try {
    const out = spawnSync(BIN, ['docker', 'save', tag], { env: { ...process.env, DOCKOPS_API_URL: svc.url, DOCKOPS_TOKEN: svc.token }, maxBuffer: 64 * 1024 * 1024 });
    assert.equal(out.status, 0, out.stderr.toString());
    assert.equal(sha(out.stdout), sha(spawnSync('/usr/bin/docker', ['save', tag], { env: { ...process.env, DOCKER_HOST: 'unix:///run/dockops/docker.sock' }, maxBuffer: 64 * 1024 * 1024 }).stdout));
    const file = path.join(dir, 'piped.tar');
    writeFileSync(file, out.stdout);
    assert.equal(dockerCli(['rmi', tag]).status, 0);
    const load = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const p = spawn('sh', ['-c', `"${BIN}" docker load < "${file}"`], { env: { ...process.env, DOCKOPS_API_URL: svc.url, DOCKOPS_TOKEN: svc.token } });
      let stdout = '';
      p.stdout.on('data', (c: Buffer) => (stdout += c));
      p.on('exit', (code) => resolve({ code, stdout }));
    });
    assert.equal(load.code, 0);
    assert.equal(load.stdout, `Loaded image: ${tag}\n`);
  } finally {
    dockerCli(['rmi', tag]);
  }
});

test('export -o gives the container filesystem as a tar', async () => {
  const name = uniqueName('export');
  assert.equal(dockerCli(['create', '--name', name, 'busybox:latest', 'true']).status, 0);
  try {
    const file = path.join(dir, 'fs.tar');
    const r = await cli(svc, ['export', '-o', file, name]);
    assert.equal(r.code, 0, r.stderr);
    const list = spawnSync('tar', ['-tf', file], { encoding: 'utf8' }).stdout.split('\n');
    assert.ok(list.includes('bin/busybox'), 'the tar holds the container files');
    const missing = await cli(svc, ['export', '-o', path.join(dir, 'x.tar'), 'dockops-no-such-container']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: No such container: dockops-no-such-container\n');
    assert.ok(!existsSync(path.join(dir, 'x.tar')));
  } finally {
    await docker().getContainer(name).remove({ force: true }).catch(() => undefined);
  }
});

test('files never name a server path; uploads are capped; bad input is refused clearly', async () => {
  const traversal = await api(svc, 'POST', '/api/jobs', { command: 'save -o ../../etc/passwd busybox' });
  assert.equal(traversal.status, 202, 'the name is reduced to its last segment');
  const badName = await api(svc, 'POST', '/api/jobs', { command: 'save -o .hidden busybox' });
  assert.equal(badName.status, 400);
  assert.match(badName.body.message, /invalid file name/);
  const path1 = await api(svc, 'POST', '/api/jobs', { command: 'load -i /etc/passwd' });
  assert.equal(path1.status, 400);
  assert.match(path1.body.message, /loads uploaded files only/);
  const tty = await cli(svc, ['load', '-i', path.join(dir, 'nope.tar')]);
  assert.equal(tty.code, 1);
  assert.match(tty.stderr, /no such file or directory/);
  const big = await fetch(`${svc.url}/api/artifacts?name=big.bin`, {
    method: 'POST',
    headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/octet-stream' },
    body: Buffer.alloc(65 * 1024 * 1024),
  });
  assert.equal(big.status, 413);
  assert.ok(artifactIds().every((d) => existsSync(path.join(artifactDir, d, 'meta.json'))), 'no half-written artifact left');
  const missing = await api(svc, 'GET', '/api/artifacts/0123456789abcdef01234567');
  assert.equal(missing.status, 404);
});

test('import: a local tarball (uploaded by the CLI) or an http URL the engine fetches, with -c and -m', async () => {
  const root = path.join(dir, 'rootfs');
  spawnSync('mkdir', ['-p', `${root}/bin`]);
  spawnSync('cp', ['/usr/bin/busybox', `${root}/bin/busybox`]);
  const tarball = path.join(dir, 'rootfs.tar');
  assert.equal(spawnSync('tar', ['-C', root, '-cf', tarball, '.']).status, 0);
  const a = `${uniqueName('imported')}:1`;
  const b = `${uniqueName('fromurl')}:1`;
  const http = await import('node:http');
  const server = http.createServer((_req, res) => res.end(readFileSync(tarball)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const r = await cli(svc, ['import', '-c', 'CMD ["/bin/busybox", "echo", "imported"]', '-m', 'from a tarball', tarball, a]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const ran = dockerCli(['run', '--rm', a]);
    assert.equal(ran.stdout, 'imported\n');
    assert.equal(dockerCli(['image', 'inspect', '-f', '{{.Comment}}', a]).stdout, 'from a tarball\n');
    const port = (server.address() as { port: number }).port;
    const u = await cli(svc, ['import', `http://127.0.0.1:${port}/rootfs.tar`, b]);
    assert.equal(u.code, 0, u.stderr);
    assert.match(u.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(dockerCli(['image', 'inspect', b]).status, 0);
    const bad = await cli(svc, ['import', '-c', 'FROM x', tarball]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /FROM is not a valid change command/);
  } finally {
    server.close();
    dockerCli(['rmi', a]);
    dockerCli(['rmi', b]);
  }
});

test('cp both ways with docker rules for DEST: into a directory, as a new name, over a file', async () => {
  const n = uniqueName('cp');
  assert.equal(dockerCli(['run', '--name', n, 'busybox:latest', 'sh', '-c', 'mkdir -p /data/sub && echo hello > /data/a.txt && echo deep > /data/sub/b']).status, 0);
  const out = path.join(dir, 'cp-out');
  spawnSync('mkdir', ['-p', out]);
  try {
    const file = await cli(svc, ['cp', `${n}:/data/a.txt`, path.join(out, 'a-copy.txt')]);
    assert.equal(file.code, 0, file.stderr);
    assert.equal(readFileSync(path.join(out, 'a-copy.txt'), 'utf8'), 'hello\n');
    const intoDir = await cli(svc, ['cp', `${n}:/data`, out]);
    assert.equal(intoDir.code, 0, intoDir.stderr);
    assert.equal(readFileSync(path.join(out, 'data', 'sub', 'b'), 'utf8'), 'deep\n');
    const asNew = await cli(svc, ['cp', `${n}:/data`, path.join(out, 'renamed')]);
    assert.equal(asNew.code, 0, asNew.stderr);
    assert.equal(readFileSync(path.join(out, 'renamed', 'a.txt'), 'utf8'), 'hello\n');
    assert.ok(!readdirSync(out).some((f) => f.startsWith('.dockops')), 'no temporary left');

    const local = path.join(dir, 'local.txt');
    writeFileSync(local, 'from the host\n');
    const up = await cli(svc, ['cp', local, `${n}:/data/`]);
    assert.equal(up.code, 0, up.stderr);
    const upRenamed = await cli(svc, ['cp', local, `${n}:/data/renamed.txt`]);
    assert.equal(upRenamed.code, 0, upRenamed.stderr);
    for (const f of ['local.txt', 'renamed.txt']) {
      const check = path.join(out, `check-${f}`);
      assert.equal(dockerCli(['cp', `${n}:/data/${f}`, check]).status, 0, `${f} is in the container`);
      assert.equal(readFileSync(check, 'utf8'), 'from the host\n');
    }
    const missing = await cli(svc, ['cp', `${n}:/nope`, out]);
    const theirs = dockerCli(['cp', `${n}:/nope`, out]);
    assert.equal(missing.code, theirs.status);
    assert.equal(missing.stderr, theirs.stderr);
    const both = await cli(svc, ['cp', `${n}:/a`, `${n}:/b`]);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /copying between containers is not supported/);
  } finally {
    await docker().getContainer(n).remove({ force: true }).catch(() => undefined);
  }
});

test('run --env-file: the CLI uploads the file, the worker reads it (values stay out of the job data)', async () => {
  const envFile = path.join(dir, 'app.env');
  writeFileSync(envFile, '# settings\nA=1\n\n  B=two words\nSECRET=s3cr3t-value\n');
  const r = await cli(svc, ['run', '--rm', '--env-file', envFile, '-e', 'A=override', 'busybox', 'sh', '-c', 'echo "$A|$B|$SECRET"']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'override|two words|s3cr3t-value\n');
  const audit = await api(svc, 'GET', '/api/audit?count=50');
  assert.ok(!JSON.stringify(audit.body).includes('s3cr3t-value'), 'the value is in no audit entry');
  const bad = path.join(dir, 'bad.env');
  writeFileSync(bad, 'FROM_SHELL\n');
  const refused = await cli(svc, ['run', '--rm', '--env-file', bad, 'busybox', 'true']);
  assert.equal(refused.code, 125);
  assert.match(refused.stderr, /bad\.env line 1: FROM_SHELL has no value/);
});

test('create --label-file: the CLI uploads the file among other run flags; the labels read back as the docker CLI sets them', async () => {
  const labels = path.join(dir, 'app.labels');
  writeFileSync(labels, '# labels\nteam=core\ntier=web\n');
  const [ours, theirs] = [uniqueName('lf-ours'), uniqueName('lf-cli')];
  try {
    const r = await cli(svc, ['create', '--name', ours, '--dns', '10.0.0.2', '--label-file', labels, '-l', 'tier=api', 'busybox', 'true']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(dockerCli(['create', '--name', theirs, '--dns', '10.0.0.2', '--label-file', labels, '-l', 'tier=api', 'busybox', 'true']).status, 0);
    const read = async (n: string) => {
      const l = { ...(await docker().getContainer(n).inspect()).Config.Labels };
      delete l['dockops.job-id'];
      return l;
    };
    assert.deepEqual(await read(ours), { team: 'core', tier: 'api' });
    assert.deepEqual(await read(ours), await read(theirs));
  } finally {
    for (const n of [ours, theirs]) await docker().getContainer(n).remove({ force: true }).catch(() => undefined);
  }
});

test('run/create with several --env-file and --label-file: the CLI uploads each, in order, as the docker CLI reads them; a missing one is refused in docker\'s words', async () => {
  const [first, second, labels] = [path.join(dir, 'first.env'), path.join(dir, 'second.env'), path.join(dir, 'more.labels')];
  writeFileSync(first, 'A=1\nB=from-first\n');
  writeFileSync(second, 'B=from-second\nC=3\n');
  writeFileSync(labels, 'team=ops\n');
  const r = await cli(svc, ['run', '--rm', '--env-file', first, `--env-file=${second}`, '--label-file', labels, 'busybox', 'sh', '-c', 'echo "$A|$B|$C"']);
  assert.equal(r.code, 0, r.stderr);
  const theirs = dockerCli(['run', '--rm', '--env-file', first, `--env-file=${second}`, '--label-file', labels, 'busybox', 'sh', '-c', 'echo "$A|$B|$C"']);
  assert.equal(r.stdout, theirs.stdout);
  assert.equal(r.stdout, '1|from-second|3\n');
  const [ours, cliName] = [uniqueName('mf-ours'), uniqueName('mf-cli')];
  try {
    const c = await cli(svc, ['create', '--name', ours, '--label-file', labels, '--env-file', first, '--env-file', second, 'busybox', 'true']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(dockerCli(['create', '--name', cliName, '--label-file', labels, '--env-file', first, '--env-file', second, 'busybox', 'true']).status, 0);
    const read = async (n: string) => {
      const i = await docker().getContainer(n).inspect();
      const l = { ...i.Config.Labels };
      delete l['dockops.job-id'];
      return { env: i.Config.Env, labels: l };
    };
    assert.deepEqual(await read(ours), await read(cliName));
  } finally {
    for (const n of [ours, cliName]) await docker().getContainer(n).remove({ force: true }).catch(() => undefined);
  }
  const missing = path.join(dir, 'missing.env');
  const refused = await cli(svc, ['run', '--rm', '--env-file', first, '--env-file', missing, 'busybox', 'true']);
  const docker125 = dockerCli(['run', '--rm', '--env-file', first, '--env-file', missing, 'busybox', 'true']);
  assert.equal(refused.code, 125);
  assert.equal(docker125.status, 125);
  assert.equal(refused.stderr, docker125.stderr);
});

test('login --password-stdin: checked by the engine, kept server-side (0600), never in job data or logs; logout removes it', async () => {
  const { statSync } = await import('node:fs');
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'dockops-dockercfg-'));
  const own = await startService({ DOCKER_CONFIG: configDir, DOCKOPS_ARTIFACT_DIR: artifactDir });
  const password = `pw-${Date.now()}-not-in-logs`;
  try {
    const env = { ...process.env, DOCKOPS_API_URL: own.url, DOCKOPS_TOKEN: own.token };
    const r = spawnSync(BIN, ['docker', 'login', '-u', 'alice', '--password-stdin', 'localhost:5000'], { env, input: `${password}\n`, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    const file = path.join(configDir, 'config.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(Buffer.from(cfg.auths['localhost:5000'].auth, 'base64').toString(), `alice:${password}`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const jobs = await api(own, 'GET', '/api/audit?count=5');
    assert.ok(!JSON.stringify(jobs.body).includes(password));
    const id = (await api(own, 'GET', '/api/audit?count=5')).body.entries.find((e: { command: string }) => e.command.startsWith('login'))?.jobId;
    const view = await api(own, 'GET', `/api/jobs/${id}`);
    assert.ok(view.body.command.includes('--password-artifact'));
    assert.ok(!JSON.stringify(view.body).includes(password), 'not in the job');
    assert.ok(!own.logs().includes(password), 'not in the logs');
    for (const d of artifactIds()) {
      const names = readdirSync(path.join(artifactDir, d));
      for (const n of names) assert.ok(!readFileSync(path.join(artifactDir, d, n), 'utf8').includes(password), 'the uploaded password is deleted after use');
    }
    const typed = await cli(own, ['login', '-u', 'alice', '-p', 'secret', 'localhost:5000']);
    assert.equal(typed.code, 1);
    assert.match(typed.stderr, /--password is refused/);
    const out = await cli(own, ['logout', 'localhost:5000']);
    assert.equal(out.stdout, 'Removing login credentials for localhost:5000\n');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).auths, {});
  } finally {
    await own.stop();
    const rr = redis();
    await dropPrefix(rr, own.prefix);
    rr.disconnect();
    rmSync(configDir, { recursive: true, force: true });
  }
});

test('load reads an upload while it arrives; an upload cut off fails the job with a clear message and leaves nothing', async () => {
  const tag = `${uniqueName('followload')}:1`;
  assert.equal(dockerCli(['tag', 'busybox:latest', tag]).status, 0);
  const tarFile = path.join(dir, 'follow.tar');
  try {
    assert.equal(dockerCli(['save', '-o', tarFile, tag]).status, 0);
    assert.equal(dockerCli(['rmi', tag]).status, 0);
    const whole = readFileSync(tarFile);
    const http = await import('node:http');
    // Send the first half, learn the id from the first line, start the job, then cut the upload.
    const u = new URL(`${svc.url}/api/artifacts?name=follow.tar&follow=1`);
    const req = http.request(u, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } });
    const first = await new Promise<{ id: string; state: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let t = '';
        res.on('data', (c: Buffer) => {
          t += c.toString();
          if (t.includes('\n')) resolve(JSON.parse(t.slice(0, t.indexOf('\n'))));
        });
        res.on('error', () => undefined);
      });
      req.on('error', () => undefined);
      req.write(whole.subarray(0, whole.length >> 1));
      setTimeout(() => reject(new Error('no first line')), 10_000);
    });
    assert.equal(first.state, 'writing');
    const sub = await api(svc, 'POST', '/api/jobs', { command: `load -i artifact:${first.id}` });
    assert.equal(sub.status, 202);
    await new Promise((r) => setTimeout(r, 300));
    req.destroy();
    let view: { state: string; exitCode: number; error?: string; result?: { stderr: string } } | undefined;
    for (let i = 0; i < 300; i++) {
      view = (await api(svc, 'GET', `/api/jobs/${sub.body.id}`)).body;
      if (view?.state === 'completed' || view?.state === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const logs = (await api(svc, 'GET', `/api/jobs/${sub.body.id}/logs`)).body.entries.map((e: { t: string }) => e.t).join('');
    assert.notEqual(view?.exitCode, 0, 'the load did not succeed on half a tar');
    assert.match(`${view?.error ?? ''} ${logs}`, /was not completed|unexpected EOF|Error/);
    assert.equal(dockerCli(['image', 'inspect', tag]).status, 1, 'no image loaded');
    assert.ok(!artifactIds().includes(first.id), 'the cut upload left no artifact');
    // The whole file through the CLI: the job follows the upload and the image comes back.
    const ok = await cli(svc, ['load', '-i', tarFile]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`Loaded image: ${tag}`));
  } finally {
    dockerCli(['rmi', tag]);
  }
});
