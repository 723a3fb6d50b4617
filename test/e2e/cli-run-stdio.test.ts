import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, cli, startService, type Service } from '../support/service.js';
import { docker, dockerCli, redis, dropPrefix, uniqueName } from '../support/env.js';

/**
 * `run/create --cidfile FILE` through the CLI door: the file is written on the caller's side (the
 * words sent to the API hold no --cidfile), with docker's refusal when it exists; the API refuses
 * the flag. `run -i`: the CLI's stdin reaches the container's, then end-of-file. Containers have
 * unique names and are removed in `after`.
 */
let svc: Service;
const made: string[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-run-stdio-'));
const name = (what: string) => {
  const n = uniqueName(what);
  made.push(n);
  return n;
};

before(async () => {
  svc = await startService();
});
after(async () => {
  const d = docker();
  for (const n of made) await d.getContainer(n).remove({ force: true }).catch(() => undefined);
  await svc.stop();
  const r = redis();
  await dropPrefix(r, svc.prefix);
  r.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

test('create --cidfile: the CLI writes the ID to the file, and refuses as docker does when it exists', async () => {
  const file = path.join(dir, 'create.cid');
  const n = name('cid-create');
  const r = await cli(svc, ['create', '--name', n, '--cidfile', 'create.cid', 'busybox:latest', 'true'], {}, { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  assert.equal(readFileSync(file, 'utf8'), r.stdout.trim());
  // It exists now: docker's words and exit codes, for create and run; nothing is created.
  const again = await cli(svc, ['create', '--name', name('cid-again'), '--cidfile=create.cid', 'busybox:latest', 'true'], {}, { cwd: dir });
  const theirs = dockerCli(['create', '--name', name('cid-again-cli'), '--cidfile', path.join(dir, 'create.cid'), 'busybox:latest', 'true']);
  assert.deepEqual([again.code, again.stderr], [theirs.status, theirs.stderr.replace(path.join(dir, 'create.cid'), 'create.cid')]);
  assert.equal(again.stderr, "container ID file found, make sure the other container isn't running or delete create.cid\n");
  const run = await cli(svc, ['run', '--cidfile', file, 'busybox:latest', 'true'], {}, { cwd: dir });
  const runCli = dockerCli(['run', '--cidfile', file, 'busybox:latest', 'true']);
  assert.deepEqual([run.code, run.stderr], [runCli.status, runCli.stderr]);
  assert.equal(run.code, 125);
  assert.equal(readFileSync(file, 'utf8'), r.stdout.trim(), 'the existing file is left as it was');
  // A directory that does not exist: docker's words (run: 127, as docker's "no such file" rule gives).
  for (const verb of ['create', 'run']) {
    const missing = path.join(dir, 'no-dir', 'x.cid');
    const ours = await cli(svc, [verb, '--cidfile', missing, 'busybox:latest', 'true'], {}, { cwd: dir });
    const cliMissing = dockerCli([verb, '--cidfile', missing, 'busybox:latest', 'true']);
    assert.deepEqual([ours.code, ours.stderr], [cliMissing.status, cliMissing.stderr], verb);
  }
});

test('run --cidfile: the file holds the ID while the container runs; a refused command leaves no file', async () => {
  const file = path.join(dir, 'run.cid');
  const n = name('cid-run');
  const running = cli(svc, ['run', '--name', n, '--cidfile', file, 'busybox:latest', 'sh', '-c', 'sleep 4; echo done'], {}, { cwd: dir });
  let seen = '';
  for (let i = 0; i < 40 && !seen; i++) {
    await new Promise((res) => setTimeout(res, 100));
    seen = existsSync(file) ? readFileSync(file, 'utf8') : '';
  }
  const r = await running;
  assert.deepEqual([r.code, r.stdout], [0, 'done\n'], r.stderr);
  assert.equal(seen, (await docker().getContainer(n).inspect()).Id, 'written before the container ended');
  // -d: the ID it prints.
  const d = await cli(svc, ['run', '-d', '--rm', '--name', name('cid-detached'), '--cidfile', 'detached.cid', 'busybox:latest', 'true'], {}, { cwd: dir });
  assert.equal(d.code, 0, d.stderr);
  assert.equal(readFileSync(path.join(dir, 'detached.cid'), 'utf8'), d.stdout.trim());
  // A start that fails: the container was made, so docker writes its ID.
  const bad = await cli(svc, ['run', '--name', name('cid-bad'), '--cidfile', 'bad.cid', 'busybox:latest', 'no-such-binary'], {}, { cwd: dir });
  assert.equal(bad.code, 127);
  assert.equal(readFileSync(path.join(dir, 'bad.cid'), 'utf8'), (await docker().getContainer(made[made.length - 1]).inspect()).Id);
  // Refused before any container: the file made for it is removed again.
  const refused = await cli(svc, ['run', '--cidfile', 'refused.cid', '--no-such-flag', 'busybox:latest'], {}, { cwd: dir });
  assert.equal(refused.code, 125);
  assert.equal(existsSync(path.join(dir, 'refused.cid')), false);
  const policy = await cli(svc, ['run', '--cidfile', 'policy.cid', '--privileged', 'busybox:latest', 'true'], {}, { cwd: dir });
  assert.equal(policy.code, 125);
  assert.equal(existsSync(path.join(dir, 'policy.cid')), false);
});

test('the API refuses --cidfile, pointing to the CLI door; the server writes no file', async () => {
  const target = path.join(dir, 'api.cid');
  const r = await api(svc, 'POST', '/api/jobs', { args: ['create', '--cidfile', target, 'busybox:latest', 'true'] });
  assert.equal(r.status, 400);
  assert.match(r.body.message, /^--cidfile .*api\.cid: the container ID file is written on your machine, so only the CLI door takes it \(`dockops docker create --cidfile FILE …`\)/);
  assert.equal(existsSync(target), false);
});

test('run -i: the CLI\'s stdin is copied into the container\'s STDIN, then closed, as docker does', async () => {
  const lines = await cli(svc, ['run', '-i', '--rm', 'busybox:latest', 'sh', '-c', 'wc -l; echo after-eof'], {}, { stdin: Buffer.from('a\nb\nc\n') });
  assert.deepEqual([lines.code, lines.stdout, lines.stderr], [0, '3\nafter-eof\n', '']);
  // 3 MiB, byte for byte (its sha256 read inside the container), with -a and --interactive=true spelled docker's other ways.
  const big = Buffer.alloc(3 << 20);
  for (let i = 0; i < big.length; i++) big[i] = 97 + ((i * 7919) % 26);
  const { createHash } = await import('node:crypto');
  const sum = await cli(svc, ['container', 'run', '--rm', '--interactive=true', '-a', 'stdout', 'busybox:latest', 'sha256sum'], {}, { stdin: big });
  assert.deepEqual([sum.code, sum.stdout], [0, `${createHash('sha256').update(big).digest('hex')}  -\n`], sum.stderr);
  // The container stops reading early: the CLI ends with it, not with its stdin.
  const head = await cli(svc, ['run', '-i', '--rm', 'busybox:latest', 'head', '-c', '5'], {}, { stdin: big, timeout: 60_000 });
  assert.equal(head.code, 0, head.stderr);
  assert.equal(head.stdout, big.subarray(0, 5).toString());
  // Nothing on stdin (/dev/null): end-of-file at once.
  const empty = await cli(svc, ['run', '-i', '--rm', 'busybox:latest', 'cat']);
  assert.deepEqual([empty.code, empty.stdout], [0, '']);
  // -t or -d with -i: stdin stays closed, as before (there is no terminal; a detached run reads nothing).
  const tty = await cli(svc, ['run', '-it', '--rm', 'busybox:latest', 'cat'], {}, { stdin: Buffer.from('x\n') });
  assert.deepEqual([tty.code, tty.stdout], [0, '']);
  assert.match(tty.stderr, /-i\/-t ignored/);
});

test('the API takes --stdin-artifact only as the CLI door sets it', async () => {
  const r = await api(svc, 'POST', '/api/jobs', { args: ['run', '--stdin-artifact', 'artifact:0123456789abcdef01234567', 'busybox:latest', 'cat'] });
  assert.equal(r.status, 400);
  assert.match(r.body.message, /--stdin-artifact is set by the CLI door for `run -i`/);
});
