import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../support/harness.js';
import { docker, dockerCli, uniqueName } from '../support/env.js';
import { quoteWords } from '../../src/commands/tokenize.js';

/**
 * volume and network verbs on the real engine. Everything here has a unique name or label and
 * is removed in `after`; prunes are limited to this run's label, so nothing else is touched.
 */
let h: Awaited<ReturnType<typeof harness>>;
const label = uniqueName('volnet');
const vols = { a: uniqueName('vol'), b: uniqueName('vol'), prune: uniqueName('volprune'), inuse: uniqueName('volinuse') };
const nets = { a: uniqueName('net'), prune: uniqueName('netprune') };
const container = uniqueName('netc');
const octet = Math.floor(Math.random() * 251);
const subnet = `10.213.${octet}.0/24`;

before(async () => {
  h = await harness();
  // The harness subscribes to job events on the first run; subscribe first so no finish is missed.
  await h.jobs.queueEvents('local');
});

after(async () => {
  const d = docker();
  await d.getContainer(container).remove({ force: true }).catch(() => undefined);
  for (const n of Object.values(nets)) await d.getNetwork(n).remove().catch(() => undefined);
  for (const v of Object.values(vols)) await d.getVolume(v).remove({ force: true }).catch(() => undefined);
  await h.close();
});

/** Same stdout, stderr and exit code through dockops and through the docker CLI. */
async function sameAsDocker(words: string[]) {
  const ours = await h.run(quoteWords(words));
  const theirs = dockerCli(words);
  assert.deepEqual(
    { out: ours.stdout, err: ours.stderr, code: ours.result.exitCode },
    { out: theirs.stdout, err: theirs.stderr, code: theirs.status },
    `docker ${words.join(' ')}`,
  );
}

test('volume create prints the name; ls, inspect match the docker CLI', async () => {
  const c = await h.run(`volume create --label ${label} --label tier=db -o type=tmpfs -o device=tmpfs ${vols.a}`);
  assert.deepEqual([c.result.exitCode, c.stdout], [0, `${vols.a}\n`]);
  const c2 = await h.run(`volume create --name ${vols.b} --label ${label}`);
  assert.deepEqual([c2.result.exitCode, c2.stdout], [0, `${vols.b}\n`]);
  const v = await docker().getVolume(vols.a).inspect();
  assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs' });
  assert.equal(v.Labels?.tier, 'db');

  await sameAsDocker(['volume', 'ls', '--filter', `label=${label}`]);
  await sameAsDocker(['volume', 'ls', '-q', '--filter', `name=${vols.a}`]);
  await sameAsDocker(['volume', 'ls', '--filter', `label=${label}`, '--format', 'table {{.Name}}\t{{.Driver}}\t{{.Scope}}\t{{.Mountpoint}}\t{{.Links}}\t{{.Size}}\t{{.Label "tier"}}']);
  await sameAsDocker(['volume', 'ls', '--filter', `name=${vols.b}`, '--format', '{{json .}}']);
  await sameAsDocker(['volume', 'inspect', vols.a, vols.b]);
  await sameAsDocker(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Labels}} {{json .Options}}', vols.a]);
  await sameAsDocker(['volume', 'inspect', vols.a, 'dockops-no-such-volume']);
  await sameAsDocker(['volume', 'inspect', '-f', '{{.Nope}}', vols.a]);
});

test('volume rm: several, partial failure exits 1; in use refused without -f', async () => {
  const r = await h.run(`volume rm ${vols.b} dockops-no-such-volume`);
  assert.equal(r.result.exitCode, 1);
  assert.equal(r.stdout, `${vols.b}\n`);
  assert.equal(r.stderr, 'Error: No such volume: dockops-no-such-volume\n');

  const run = await h.run(`run -d --name ${container} -v ${vols.inuse}:/data busybox:latest sleep 300`);
  assert.equal(run.result.exitCode, 0, run.stderr);
  const inUse = await h.run(`volume rm ${vols.inuse}`);
  assert.equal(inUse.result.exitCode, 1);
  assert.match(inUse.stderr, /^Error response from daemon: remove .*: volume is in use/);
});

test('volume prune: refused without -f; with -f and a label filter only ours go', async () => {
  const refused = await h.run('volume prune').catch((e: Error) => e);
  assert.ok(refused instanceof Error && /add -f \(--force\)/.test(refused.message));
  const c = await h.run(`volume create --label ${label}-prune ${vols.prune}`);
  assert.equal(c.result.exitCode, 0, c.stderr);
  const r = await h.run(`volume prune -f --filter label=${label}-prune`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  assert.equal(r.stdout, `Deleted Volumes:\n${vols.prune}\n\nTotal reclaimed space: 0B\n`);
  // -a on an API 1.41 engine: accepted, and (as 20.10 always does) named volumes go too.
  const again = await h.run(`volume prune -a -f --filter label=${label}-prune`);
  assert.deepEqual([again.result.exitCode, again.stdout], [0, 'Total reclaimed space: 0B\n']);
});

test('network create prints the ID; ls and inspect match the docker CLI', async () => {
  const c = await h.run(
    `network create -d bridge --subnet ${subnet} --gateway 10.213.${octet}.1 --ip-range 10.213.${octet}.128/25 --internal --attachable --label ${label} -o com.docker.network.bridge.enable_icc=true ${nets.a}`,
  );
  assert.equal(c.result.exitCode, 0, c.stderr);
  assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
  const n = await docker().getNetwork(nets.a).inspect();
  assert.equal(n.Id, c.stdout.trim());
  assert.deepEqual(n.IPAM?.Config, [{ Subnet: subnet, IPRange: `10.213.${octet}.128/25`, Gateway: `10.213.${octet}.1` }]);
  assert.equal(n.Internal, true);
  assert.equal(n.Attachable, true);

  const dup = await h.run(`network create ${nets.a}`);
  assert.equal(dup.result.exitCode, 1);
  assert.equal(dup.stderr, `Error response from daemon: network with name ${nets.a} already exists\n`);

  await sameAsDocker(['network', 'ls', '--filter', `name=${nets.a}`]);
  await sameAsDocker(['network', 'ls', '--no-trunc', '--filter', `name=${nets.a}`]);
  await sameAsDocker(['network', 'ls', '-q', '--filter', `label=${label}`]);
  await sameAsDocker(['network', 'ls', '--filter', `name=${nets.a}`, '--format', '{{json .}}']);
  await sameAsDocker(['network', 'ls', '--filter', `name=${nets.a}`, '--format', 'table {{.Name}}\t{{.IPv6}}\t{{.Internal}}\t{{.Labels}}\t{{.CreatedAt}}']);
  await sameAsDocker(['network', 'inspect', nets.a]);
  await sameAsDocker(['network', 'inspect', '-f', '{{.Name}} {{.Created}} {{json .IPAM}} {{.Internal}}', nets.a]);
  await sameAsDocker(['network', 'inspect', nets.a, 'dockops-no-such-network']);
  await sameAsDocker(['network', 'inspect', '-f', '{{.Nope}}', nets.a]);
});

test('network connect (alias, ip) and disconnect (-f)', async () => {
  const ip = `10.213.${octet}.130`;
  const c = await h.run(`network connect --alias web1 --alias web2 --ip ${ip} ${nets.a} ${container}`);
  assert.deepEqual([c.result.exitCode, c.stdout, c.stderr], [0, '', '']);
  const info = await docker().getContainer(container).inspect();
  const ep = info.NetworkSettings.Networks[nets.a];
  assert.equal(ep.IPAddress, ip);
  assert.ok(ep.Aliases?.includes('web1') && ep.Aliases?.includes('web2'));

  await sameAsDocker(['network', 'connect', nets.a, 'dockops-no-such-container']);
  const d = await h.run(`network disconnect ${nets.a} ${container}`);
  assert.deepEqual([d.result.exitCode, d.stdout, d.stderr], [0, '', '']);
  await sameAsDocker(['network', 'disconnect', '-f', nets.a, container]);
});

test('network rm: several, partial failure exits 1; prune refused without -f, label-filtered with it', async () => {
  const refused = await h.run('network prune').catch((e: Error) => e);
  assert.ok(refused instanceof Error && /add -f \(--force\)/.test(refused.message));
  const c = await h.run(`network create --label ${label}-prune ${nets.prune}`);
  assert.equal(c.result.exitCode, 0, c.stderr);
  const p = await h.run(`network prune -f --filter label=${label}-prune`);
  assert.deepEqual([p.result.exitCode, p.stdout], [0, `Deleted Networks:\n${nets.prune}\n\n`]);
  const none = await h.run(`network prune -f --filter label=${label}-prune`);
  assert.deepEqual([none.result.exitCode, none.stdout], [0, '']);

  const r = await h.run(`network rm ${nets.a} dockops-no-such-network`);
  assert.equal(r.result.exitCode, 1);
  assert.equal(r.stdout, `${nets.a}\n`);
  assert.equal(r.stderr, 'Error: No such network: dockops-no-such-network\n');
});
