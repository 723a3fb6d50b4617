import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../support/harness.js';
import { docker, dockerCli, uniqueName } from '../support/env.js';

let h: Awaited<ReturnType<typeof harness>>;
const cleanup: string[] = [];
before(async () => {
  h = await harness();
});
after(async () => {
  const d = docker();
  for (const name of cleanup) await d.getContainer(name).remove({ force: true, v: true }).catch(() => undefined);
  await h.close();
});

/** A name for a container this file makes, removed in `after`. */
function name(what: string): string {
  const n = uniqueName(what);
  cleanup.push(n);
  return n;
}

async function state(n: string) {
  return (await docker().getContainer(n).inspect()).State;
}

test('create prints the full id; start, pause, unpause, stop, restart, kill print each name', async () => {
  const n = name('life');
  const c = await h.run(`create --name ${n} -p 127.0.0.1::80 busybox:latest sleep 300`);
  assert.equal(c.result.exitCode, 0, c.stderr);
  assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
  assert.equal((await docker().getContainer(n).inspect()).Id, c.stdout.trim());
  assert.equal((await state(n)).Running, false);

  const s = await h.run(`start ${n}`);
  assert.deepEqual([s.result.exitCode, s.stdout], [0, `${n}\n`]);
  assert.equal((await state(n)).Running, true);
  const again = await h.run(`start ${n}`);
  assert.deepEqual([again.result.exitCode, again.stdout], [0, `${n}\n`]);

  const p = await h.run(`pause ${n}`);
  assert.deepEqual([p.result.exitCode, p.stdout], [0, `${n}\n`]);
  assert.equal((await state(n)).Paused, true);
  const p2 = await h.run(`pause ${n}`);
  assert.equal(p2.result.exitCode, 1);
  assert.match(p2.stderr, /^Error response from daemon: Container [0-9a-f]{64} is already paused\n$/);
  const u = await h.run(`unpause ${n}`);
  assert.deepEqual([u.result.exitCode, u.stdout], [0, `${n}\n`]);
  assert.equal((await state(n)).Paused, false);

  const r = await h.run(`restart -t 1 ${n}`);
  assert.deepEqual([r.result.exitCode, r.stdout], [0, `${n}\n`]);
  assert.equal((await state(n)).Running, true);

  const st = await h.run(`stop -t 1 ${n}`);
  assert.deepEqual([st.result.exitCode, st.stdout], [0, `${n}\n`]);
  assert.equal((await state(n)).Running, false);
  const st2 = await h.run(`stop ${n}`);
  assert.deepEqual([st2.result.exitCode, st2.stdout], [0, `${n}\n`]);

  await h.run(`start ${n}`);
  // sleep is PID 1, which ignores SIGHUP: the signal is sent, the container keeps running.
  const hup = await h.run(`kill -s HUP ${n}`);
  assert.deepEqual([hup.result.exitCode, hup.stdout], [0, `${n}\n`]);
  assert.equal((await state(n)).Running, true);
  const k = await h.run(`kill ${n}`);
  assert.deepEqual([k.result.exitCode, k.stdout], [0, `${n}\n`]);
  const w = await h.run(`wait ${n}`);
  assert.deepEqual([w.result.exitCode, w.stdout], [0, '137\n']);
  const k2 = await h.run(`kill ${n}`);
  const cli = dockerCli(['kill', n]);
  assert.deepEqual([k2.result.exitCode, k2.stderr], [cli.status, cli.stderr]);
});

test('stop -t on several containers: both stop, a missing one fails the job with docker words', async () => {
  const a = name('stop-a');
  const b = name('stop-b');
  for (const n of [a, b]) dockerCli(['run', '-d', '--name', n, 'busybox:latest', 'sleep', '300']);
  const r = await h.run(`stop -t 1 ${a} dockops-no-such-container ${b}`);
  assert.equal(r.result.exitCode, 1);
  assert.equal(r.stdout, `${a}\n${b}\n`);
  assert.equal(r.stderr, 'Error response from daemon: No such container: dockops-no-such-container\n');
  assert.equal((await state(a)).Running, false);
  assert.equal((await state(b)).Running, false);
  const cli = dockerCli(['stop', 'dockops-no-such-container']);
  assert.equal(cli.stderr, r.stderr);
});

test('errors in docker words: kill, start, rename, wait, top, diff, port of a missing container', async () => {
  for (const cmd of ['kill', 'start', 'top', 'diff', 'port', 'wait', 'restart', 'pause', 'unpause', 'rm']) {
    const r = await h.run(`${cmd} dockops-no-such-container`);
    const cli = dockerCli([cmd, 'dockops-no-such-container']);
    assert.equal(r.result.exitCode, cli.status, cmd);
    assert.equal(r.stderr, cli.stderr, cmd);
  }
  const rn = await h.run('rename dockops-no-such-container dockops-other');
  const cli = dockerCli(['rename', 'dockops-no-such-container', 'dockops-other']);
  assert.deepEqual([rn.result.exitCode, rn.stderr], [cli.status, cli.stderr]);
});

test('rm: several, -f on a running one, partial failure exits 1 with the others removed; -f ignores missing', async () => {
  const a = name('rm-a');
  const b = name('rm-b');
  dockerCli(['create', '--name', a, 'busybox:latest', 'true']);
  dockerCli(['run', '-d', '--name', b, 'busybox:latest', 'sleep', '300']);
  const running = await h.run(`rm ${b}`);
  assert.equal(running.result.exitCode, 1);
  assert.match(running.stderr, /^Error response from daemon: You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove\n$/);
  const r = await h.run(`rm ${a} dockops-no-such-container`);
  assert.equal(r.result.exitCode, 1);
  assert.equal(r.stdout, `${a}\n`);
  assert.equal(r.stderr, 'Error: No such container: dockops-no-such-container\n');
  await assert.rejects(docker().getContainer(a).inspect(), /no such container/i);
  const f = await h.run(`container remove -f -v ${b} dockops-no-such-container`);
  assert.equal(f.result.exitCode, 0);
  assert.equal(f.stdout, `${b}\n`);
  assert.equal(f.stderr, 'Error: No such container: dockops-no-such-container\n');
  await assert.rejects(docker().getContainer(b).inspect(), /no such container/i);
});

test('container prune -f --filter label= removes only the stopped containers with the label', async () => {
  const label = uniqueName('prune');
  const stopped = name('prune-stopped');
  const running = name('prune-running');
  const other = name('prune-other');
  const id = dockerCli(['create', '--name', stopped, '--label', label, 'busybox:latest', 'true']).stdout.trim();
  dockerCli(['run', '-d', '--name', running, '--label', label, 'busybox:latest', 'sleep', '300']);
  dockerCli(['create', '--name', other, 'busybox:latest', 'true']);
  const r = await h.run(`container prune -f --filter label=${label}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  assert.equal(r.stdout, `Deleted Containers:\n${id}\n\nTotal reclaimed space: 0B\n`);
  await assert.rejects(docker().getContainer(stopped).inspect(), /no such container/i);
  assert.equal((await state(running)).Running, true);
  await docker().getContainer(other).inspect();
  const none = await h.run(`container prune --force --filter label=${label}`);
  assert.equal(none.stdout, 'Total reclaimed space: 0B\n');
  const cli = dockerCli(['container', 'prune', '-f', '--filter', `label=${label}`]);
  assert.equal(none.stdout, cli.stdout);
});

test('rename, then inspect -f shows the new name', async () => {
  const a = name('rename-a');
  const b = name('rename-b');
  dockerCli(['create', '--name', a, 'busybox:latest', 'true']);
  const r = await h.run(`rename ${a} ${b}`);
  assert.deepEqual([r.result.exitCode, r.stdout, r.stderr], [0, '', '']);
  const i = await h.run(`inspect -f '{{.Name}} {{.State.Status}}' ${b}`);
  assert.equal(i.stdout, `/${b} created\n`);
  const same = await h.run(`rename ${b} ${b}`);
  const cli = dockerCli(['rename', b, b]);
  assert.deepEqual([same.result.exitCode, same.stderr], [cli.status, cli.stderr]);
});

test('inspect: output identical to the docker CLI, -s, a missing name, --type, container inspect', async () => {
  const n = name('inspect');
  dockerCli(['create', '--name', n, '--label', 'x=<a&b>', '-p', '127.0.0.1:0:80', 'busybox:latest', 'true']);
  for (const args of [[n], ['-s', n], ['--type', 'container', n], ['-f', '{{json .Config.Labels}}', n], ['-f', '{{.State.Status}} {{.Config.Cmd}} {{len .Mounts}}', n], [n, 'dockops-no-such-x']]) {
    const r = await h.run(`inspect ${args.map((a) => `'${a}'`).join(' ')}`);
    const cli = dockerCli(['inspect', ...args]);
    assert.equal(r.stdout, cli.stdout, args.join(' '));
    assert.equal(r.stderr, cli.stderr, args.join(' '));
    assert.equal(r.result.exitCode, cli.status, args.join(' '));
  }
  for (const args of [[n], ['-s', '-f', '{{.SizeRootFs}}', n], ['dockops-no-such-x']]) {
    const r = await h.run(`container inspect ${args.map((a) => `'${a}'`).join(' ')}`);
    const cli = dockerCli(['container', 'inspect', ...args]);
    assert.equal(r.stdout, cli.stdout, args.join(' '));
    assert.equal(r.stderr, cli.stderr, args.join(' '));
    assert.equal(r.result.exitCode, cli.status, args.join(' '));
  }
  const img = await h.run('inspect -f "{{.Id}}" busybox:latest');
  assert.equal(img.stdout, dockerCli(['inspect', '-f', '{{.Id}}', 'busybox:latest']).stdout);
  const wrongType = await h.run(`inspect --type image ${n}`);
  assert.equal(wrongType.result.exitCode, 1);
  assert.equal(wrongType.stderr, `Error: No such image: ${n}\n`);
});

test('top, diff and port: as the docker CLI prints them', async () => {
  const n = name('tdp');
  dockerCli(['run', '-d', '--name', n, '-p', '127.0.0.1::80', '-p', '127.0.0.1::53/udp', 'busybox:latest', 'sh', '-c', 'touch /tmp/new; rm /bin/true; exec sleep 300']);
  // Both sides must see the container settled (its files changed, sleep running), however slow the machine.
  for (let i = 0; ; i++) {
    const settled = / sleep$/m.test(dockerCli(['top', n, '-o', 'pid,comm']).stdout) && /^D \/bin\/true$/m.test(dockerCli(['diff', n]).stdout);
    if (settled) break;
    assert.ok(i < 100, 'the container did not settle in 20 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  const top = await h.run(`top ${n} -o pid,comm`);
  assert.equal(top.result.exitCode, 0, top.stderr);
  assert.equal(top.stdout, dockerCli(['top', n, '-o', 'pid,comm']).stdout);
  assert.match(top.stdout, /^PID {17}COMMAND\n/);
  // ps's C column (CPU use over the process's life) and TIME move while the process runs: dockops's
  // answer must equal docker's, read just before or just after it.
  const before = dockerCli(['top', n]).stdout;
  const topDefault = await h.run(`top ${n}`);
  const afterCli = dockerCli(['top', n]).stdout;
  assert.ok(topDefault.stdout === before || topDefault.stdout === afterCli, `${topDefault.stdout}\n---\n${before}\n---\n${afterCli}`);
  assert.match(topDefault.stdout, /^UID +PID +PPID +C +STIME +TTY +TIME +CMD\n/);

  const diff = await h.run(`diff ${n}`);
  assert.equal(diff.result.exitCode, 0);
  // The engine lists changes in no fixed order, docker prints them as they come.
  const sorted = (t: string) => t.split('\n').sort().join('\n');
  assert.equal(sorted(diff.stdout), sorted(dockerCli(['diff', n]).stdout));
  assert.match(diff.stdout, /^A \/tmp\/new$/m);
  assert.match(diff.stdout, /^D \/bin\/true$/m);
  assert.match(diff.stdout, /^C \/tmp$/m);

  const all = await h.run(`port ${n}`);
  assert.match(all.stdout, /^53\/udp -> 127\.0\.0\.1:\d+\n80\/tcp -> 127\.0\.0\.1:\d+\n$/);
  // docker 20.10 walks a Go map of ports: its order changes from run to run; dockops sorts.
  assert.equal(sorted(all.stdout), sorted(dockerCli(['port', n]).stdout));
  const one = await h.run(`port ${n} 80`);
  assert.match(one.stdout, /^127\.0\.0\.1:\d+\n$/);
  assert.equal(one.stdout, dockerCli(['port', n, '80/tcp']).stdout);
  const udp = await h.run(`port ${n} 53/udp`);
  assert.equal(udp.stdout, dockerCli(['port', n, '53/udp']).stdout);
  const none = await h.run(`port ${n} 81`);
  const cli = dockerCli(['port', n, '81']);
  assert.deepEqual([none.result.exitCode, none.stderr], [cli.status, cli.stderr]);
});

test('start -a streams the output and gives the container exit code; wait on several prints one code a line', async () => {
  const a = name('attach');
  const b = name('wait-b');
  dockerCli(['create', '--name', a, 'busybox:latest', 'sh', '-c', 'echo out; echo err >&2; exit 4']);
  const r = await h.run(`start -a ${a}`);
  assert.equal(r.result.exitCode, 4);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  dockerCli(['run', '--name', b, 'busybox:latest', 'sh', '-c', 'exit 2']);
  const w = await h.run(`wait ${a} ${b}`);
  assert.deepEqual([w.result.exitCode, w.stdout], [0, '4\n2\n']);
});
