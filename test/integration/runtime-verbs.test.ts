import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../support/harness.js';
import { docker, dockerCli, uniqueName } from '../support/env.js';

let h: Awaited<ReturnType<typeof harness>>;
const containers: string[] = [];
const images: string[] = [];
before(async () => {
  h = await harness();
});
after(async () => {
  const d = docker();
  for (const n of containers) await d.getContainer(n).remove({ force: true, v: true }).catch(() => undefined);
  for (const i of images) await d.getImage(i).remove({ force: true }).catch(() => undefined);
  await h.close();
});

/** A running busybox container this file makes, removed in `after`. */
function running(what: string): string {
  const n = uniqueName(what);
  containers.push(n);
  const r = dockerCli(['run', '-d', '--name', n, 'busybox:latest', 'sleep', '600']);
  assert.equal(r.status, 0, r.stderr);
  return n;
}

test('exec: output streamed per stream, exit code the command\'s; -u -w -e reach the process', async () => {
  const n = running('exec');
  const r = await h.run(`exec ${n} sh -c "echo hi; echo err >&2; exit 3"`);
  assert.deepEqual([r.result.exitCode, r.stdout, r.stderr], [3, 'hi\n', 'err\n']);
  const o = await h.run(`exec -w /tmp -u 1000 -e A=b ${n} sh -c 'pwd; id -u; echo $A'`);
  assert.deepEqual([o.result.exitCode, o.stdout], [0, '/tmp\n1000\nb\n']);
  const cli = dockerCli(['exec', '-w', '/tmp', '-u', '1000', '-e', 'A=b', n, 'sh', '-c', 'pwd; id -u; echo $A']);
  assert.equal(o.stdout, cli.stdout);
  const it = await h.run(`exec -it ${n} true`);
  assert.equal(it.result.exitCode, 0);
  assert.match(it.stderr, /-i\/-t ignored/);
});

test('exec: a command that cannot be run exits 126 with the runtime\'s words, as docker', async () => {
  const n = running('exec-126');
  for (const cmd of ['nosuch', '/etc/passwd']) {
    const r = await h.run(`exec ${n} ${cmd}`);
    const cli = dockerCli(['exec', n, cmd]);
    assert.equal(r.result.exitCode, cli.status, cmd);
    assert.equal(cli.status, 126);
    assert.equal(r.stdout, cli.stdout, cmd);
  }
  // The shell's own "not found" is 127.
  const sh = await h.run(`exec ${n} sh -c nosuch`);
  assert.equal(sh.result.exitCode, 127);
});

test('exec: -d returns at once; a missing or stopped container fails with docker\'s words', async () => {
  const n = running('exec-d');
  const d = await h.run(`exec -d ${n} sh -c "sleep 1; touch /tmp/done"`);
  assert.deepEqual([d.result.exitCode, d.stdout], [0, '']);
  const missing = await h.run('exec dockops-no-such-container true');
  const cli = dockerCli(['exec', 'dockops-no-such-container', 'true']);
  assert.deepEqual([missing.result.exitCode, missing.stderr], [cli.status, cli.stderr]);
  dockerCli(['stop', '-t', '0', n]);
  const stopped = await h.run(`exec ${n} true`);
  const cli2 = dockerCli(['exec', n, 'true']);
  assert.deepEqual([stopped.result.exitCode, stopped.stderr], [cli2.status, cli2.stderr]);
});

test('exec: cancel stops waiting for a long command', async () => {
  const n = running('exec-cancel');
  const job = await h.submit(`exec ${n} sleep 300`);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(h.worker.worker.cancelJob(job.id as string, 'test'), true);
  const events = await h.jobs.queueEvents('local');
  await assert.rejects(job.waitUntilFinished(events, 20_000), /cancel/);
});

test('stats: one snapshot with docker\'s columns; --format fields; missing container as docker', async () => {
  const n = running('stats');
  const r = await h.run(`stats --no-stream ${n}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  const [head, row, ...rest] = r.stdout.split('\n');
  assert.match(head, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
  assert.match(row, new RegExp(`^[0-9a-f]{12}\\s+${n}\\s+\\d+\\.\\d\\d%\\s+[\\d.]+[KMG]?i?B / [\\d.]+[KMGT]?i?B\\s+\\d+\\.\\d\\d%\\s+[\\d.]+k?M?B / [\\d.]+k?M?B\\s+[\\d.]+k?M?B / [\\d.]+k?M?B\\s+1$`));
  assert.deepEqual(rest, ['']);
  const f = await h.run(`stats --no-trunc --format "{{.Container}}|{{.Name}}|{{.ID}}|{{.PIDs}}" ${n}`);
  const id = (await docker().getContainer(n).inspect()).Id;
  assert.equal(f.stdout, `${n}|${n}|${id}|1\n`);
  const cliFields = dockerCli(['stats', '--no-stream', '--no-trunc', '--format', '{{.Container}}|{{.Name}}|{{.ID}}|{{.PIDs}}', n]);
  assert.equal(f.stdout, cliFields.stdout);
  const all = await h.run('stats --format "{{.Name}}"');
  assert.ok(all.stdout.split('\n').includes(n));
  const missing = await h.run(`stats ${n} dockops-no-such-container`);
  const cli = dockerCli(['stats', '--no-stream', n, 'dockops-no-such-container']);
  assert.deepEqual([missing.result.exitCode, missing.stdout, missing.stderr], [cli.status, cli.stdout, cli.stderr]);
});

test('update: values read back from the engine; several containers; engine errors as docker prints them', async () => {
  const a = running('upd-a');
  const b = running('upd-b');
  const r = await h.run(`update -m 64m --memory-swap 128m --memory-reservation 32m -c 512 --cpus 0.5 --cpuset-cpus 0 --cpuset-mems 0 --restart on-failure:3 ${a} ${b}`);
  assert.deepEqual([r.result.exitCode, r.stdout], [0, `${a}\n${b}\n`]);
  for (const n of [a, b]) {
    const hc = (await docker().getContainer(n).inspect()).HostConfig as Record<string, unknown>;
    assert.deepEqual(
      [hc.Memory, hc.MemorySwap, hc.MemoryReservation, hc.CpuShares, hc.NanoCpus, hc.CpusetCpus, hc.CpusetMems, hc.RestartPolicy],
      [64 * 1024 ** 2, 128 * 1024 ** 2, 32 * 1024 ** 2, 512, 500_000_000, '0', '0', { Name: 'on-failure', MaximumRetryCount: 3 }],
    );
  }
  const kernel = await h.run(`update --kernel-memory 50m --blkio-weight 300 ${a}`);
  const cliKernel = dockerCli(['update', '--kernel-memory', '50m', '--blkio-weight', '300', b]);
  assert.deepEqual([kernel.result.exitCode, kernel.stdout, kernel.stderr], [cliKernel.status, cliKernel.stdout.replace(b, a), cliKernel.stderr]);
  assert.equal((await docker().getContainer(a).inspect()).HostConfig.KernelMemory, 50 * 1024 ** 2);
  const c = running('upd-c');
  const q = await h.run(`update --cpu-period 100000 --cpu-quota 50000 ${c}`);
  assert.equal(q.result.exitCode, 0, q.stderr);
  const hc = (await docker().getContainer(c).inspect()).HostConfig;
  assert.deepEqual([hc.CpuPeriod, hc.CpuQuota], [100000, 50000]);
  // The engine refuses a CFS period once --cpus is set; and 1k of memory: docker's words, exit 1.
  for (const args of [['--cpu-period', '100000', a], ['-m', '1k', a], ['--restart', 'bogus', a], ['-m', '64m', a, 'dockops-no-such-container']]) {
    const mine = await h.run(`update ${args.join(' ')}`);
    const cli = dockerCli(['update', ...args]);
    assert.deepEqual([mine.result.exitCode, mine.stdout, mine.stderr], [cli.status, cli.stdout, cli.stderr], args.join(' '));
  }
  const rt = await h.run(`update --cpu-rt-period 1000000 --cpu-rt-runtime 0 ${c}`);
  const cliRt = dockerCli(['update', '--cpu-rt-period', '1000000', '--cpu-rt-runtime', '0', c]);
  assert.deepEqual([rt.result.exitCode, rt.stderr], [cliRt.status, cliRt.stderr]);
});

test('commit: prints sha256:…, author, message and changes land in the image; engine refusals as docker', async () => {
  const n = running('commit');
  const img = `${uniqueName('commit').toLowerCase()}:v1`;
  images.push(img);
  const r = await h.run(`commit -a me -m msg -c "ENV A=b" -c "LABEL x=y" -c 'CMD ["sh"]' ${n} ${img}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const i = await docker().getImage(img).inspect();
  assert.equal(i.Id, r.stdout.trim());
  assert.deepEqual([i.Author, i.Comment, i.Config.Env, i.Config.Labels, i.Config.Cmd], ['me', 'msg', ['PATH=/bin', 'A=b'], { x: 'y' }, ['sh']]);
  for (const args of [['-c', 'FOO bar', n], ['dockops-no-such-container']]) {
    const mine = await h.run(`commit ${args.map((a) => `"${a}"`).join(' ')}`);
    const cli = dockerCli(['commit', ...args]);
    assert.deepEqual([mine.result.exitCode, mine.stderr], [cli.status, cli.stderr], args.join(' '));
  }
});

test('system df: docker\'s summary table and -v sections', async () => {
  const r = await h.run('system df');
  assert.equal(r.result.exitCode, 0);
  const lines = r.stdout.split('\n');
  assert.match(lines[0], /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
  assert.deepEqual(lines.slice(1, 5).map((l) => l.split(/\s{2,}/)[0]), ['Images', 'Containers', 'Local Volumes', 'Build Cache']);
  for (const l of lines.slice(1, 5)) assert.match(l, /\s\d+\s+\d+\s+[\d.]+k?M?G?B\s+[\d.]+k?M?G?B( \(\d+%\))?$/);
  // The header and row names are docker's (numbers vary with what other tests run).
  assert.equal(dockerCli(['system', 'df']).stdout.split('\n')[0], lines[0]);
  const f = await h.run('system df --format "{{.Type}}"');
  assert.equal(f.stdout, dockerCli(['system', 'df', '--format', '{{.Type}}']).stdout);
  const v = await h.run('system df -v');
  for (const s of ['Images space usage:', 'Containers space usage:', 'Local Volumes space usage:', 'Build cache usage: ']) assert.ok(v.stdout.includes(s), s);
});

test('events: --since/--until lines identical to docker; --format; following ends after --for', async () => {
  const n = running('events');
  dockerCli(['exec', n, 'true']);
  await new Promise((r) => setTimeout(r, 1100));
  const until = String(Math.floor(Date.now() / 1000));
  const r = await h.run(`events --since 2m --until ${until} -f container=${n}`);
  const cli = dockerCli(['events', '--since', '2m', '--until', until, '-f', `container=${n}`]);
  assert.equal(r.result.exitCode, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z container create [0-9a-f]{64} \\(image=busybox:latest, name=${n}\\)\n`));
  assert.equal(r.stdout, cli.stdout);
  for (const fmt of ['{{json .}}', '{{.Type}} {{.Status}} {{.Action}} {{.Actor.Attributes.name}} {{.TimeNano}}']) {
    const f = await h.run(`events --since 2m --until ${until} -f container=${n} -f event=start --format '${fmt}'`);
    const c = dockerCli(['events', '--since', '2m', '--until', until, '-f', `container=${n}`, '-f', 'event=start', '--format', fmt]);
    assert.equal(f.stdout, c.stdout, fmt);
    assert.notEqual(f.stdout, '');
  }
  const started = Date.now();
  const follow = h.run(`events --for 3s -f container=${n} -f event=exec_die`);
  await new Promise((res) => setTimeout(res, 1000));
  dockerCli(['exec', n, 'true']);
  const fr = await follow;
  assert.equal(fr.result.exitCode, 0);
  assert.match(fr.stdout, /container exec_die [0-9a-f]{64} \(execID=[0-9a-f]{64}, exitCode=0, /);
  assert.ok(Date.now() - started >= 2500);
});
