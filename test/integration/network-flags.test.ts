import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../support/harness.js';
import { docker, dockerCli, uniqueName } from '../support/env.js';
import { quoteWords } from '../../src/commands/tokenize.js';

/**
 * network create / connect flags on the real engine: values read back with inspect, refusals
 * (swarm-only flags, engine and client errors) compared with Debian's docker CLI (20.10).
 * Everything has a unique name and is removed in `after`.
 */
let h: Awaited<ReturnType<typeof harness>>;
const nets = { v6: uniqueName('net6'), conf: uniqueName('netconf'), from: uniqueName('netfrom'), swarm: uniqueName('netswarm'), bad: uniqueName('netbad') };
const ctrs = { a: uniqueName('conn-a'), b: uniqueName('conn-b'), c: uniqueName('conn-c') };
const o = 16 + Math.floor(Math.random() * 200);
const v4 = `10.215.${o}`;
const v6 = `fd00:215:${o.toString(16)}:`;

before(async () => {
  h = await harness();
  await h.jobs.queueEvents('local');
  for (const c of Object.values(ctrs)) assert.equal(dockerCli(['create', '--name', c, 'busybox:latest', 'true']).status, 0);
});

after(async () => {
  const d = docker();
  for (const c of Object.values(ctrs)) await d.getContainer(c).remove({ force: true }).catch(() => undefined);
  for (const n of [nets.from, nets.v6, nets.conf, nets.swarm, nets.bad]) await d.getNetwork(n).remove().catch(() => undefined);
  await h.close();
});

/** Same stdout, stderr and exit code through dockops and the docker CLI (a refusal before queueing counts too). */
async function sameAsDocker(words: string[]) {
  let ours: { out: string; err: string; code: number };
  try {
    const r = await h.run(quoteWords(words));
    ours = { out: r.stdout, err: r.stderr, code: r.result.exitCode };
  } catch (err) {
    ours = { out: '', err: `${(err as Error).message}\n`, code: (err as { exitCode: number }).exitCode };
  }
  const theirs = dockerCli(words);
  assert.deepEqual(ours, { out: theirs.stdout, err: theirs.stderr, code: theirs.status }, `docker ${words.join(' ')}`);
}

test('network create --ipv6, --aux-address, --ipam-driver, --ipam-opt: read back from the engine', async () => {
  const r = await h.run(
    `network create --ipv6 --subnet ${v4}.0/24 --subnet ${v6}:/64 --aux-address host1=${v4}.5 --aux-address host6=${v6}:5 --ipam-driver default --ipam-opt k=v --scope local ${nets.v6}`,
  );
  assert.equal(r.result.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  const n = await docker().getNetwork(nets.v6).inspect();
  assert.equal(n.EnableIPv6, true);
  assert.equal(n.Scope, 'local');
  assert.deepEqual(n.IPAM, {
    Driver: 'default',
    Options: { k: 'v' },
    Config: [
      { Subnet: `${v4}.0/24`, AuxiliaryAddresses: { host1: `${v4}.5` } },
      { Subnet: `${v6}:/64`, AuxiliaryAddresses: { host6: `${v6}:5` } },
    ],
  });
  await sameAsDocker(['network', 'inspect', '-f', '{{.EnableIPv6}} {{.IPAM.Driver}} {{.IPAM.Options}} {{range .IPAM.Config}}{{.Subnet}}={{.AuxAddress}} {{end}}', nets.v6]);
});

test('network create --config-only, then --config-from takes its configuration', async () => {
  const conf = await h.run(`network create --config-only --subnet 10.216.${o}.0/24 --ipam-opt x=y ${nets.conf}`);
  assert.equal(conf.result.exitCode, 0, conf.stderr);
  const from = await h.run(`network create --config-from ${nets.conf} ${nets.from}`);
  assert.equal(from.result.exitCode, 0, from.stderr);
  const c = await docker().getNetwork(nets.conf).inspect();
  assert.deepEqual([c.ConfigOnly, c.Driver, c.IPAM?.Config?.[0]?.Subnet], [true, 'null', `10.216.${o}.0/24`]);
  const f = await docker().getNetwork(nets.from).inspect();
  assert.deepEqual([f.ConfigOnly, f.ConfigFrom?.Network, f.IPAM?.Config?.[0]?.Subnet], [false, nets.conf, `10.216.${o}.0/24`]);
  await sameAsDocker(['network', 'inspect', '-f', '{{.ConfigOnly}} {{.ConfigFrom}} {{.Driver}}', nets.conf, nets.from]);
});

test('network create: swarm-only flags and bad values refused as docker refuses them', async () => {
  await sameAsDocker(['network', 'create', '--ingress', nets.swarm]);
  await sameAsDocker(['network', 'create', '--scope', 'swarm', nets.swarm]);
  await sameAsDocker(['network', 'create', '--ipam-driver', 'dockops-no-such-ipam', nets.bad]);
  await sameAsDocker(['network', 'create', '--subnet', `10.217.${o}.0/24`, '--aux-address', 'a=10.1.1.1', nets.bad]);
  await sameAsDocker(['network', 'create', '--config-from', 'dockops-no-such-network', nets.bad]);
  for (const n of [nets.swarm, nets.bad]) assert.equal(dockerCli(['network', 'inspect', n]).status, 1, `${n} was not created`);
});

test('network connect --ip6, --link, --link-local-ip, --driver-opt: read back from the engine', async () => {
  const r = await h.run(
    `network connect --ip ${v4}.10 --ip6 ${v6}:10 --link ${ctrs.b}:db --link ${ctrs.c} --link-local-ip 169.254.7.7,fe80::7 --driver-opt Foo=BaR --driver-opt ' x = Y ' ${nets.v6} ${ctrs.a}`,
  );
  assert.deepEqual([r.result.exitCode, r.stdout, r.stderr], [0, '', '']);
  const ep = (await docker().getContainer(ctrs.a).inspect()).NetworkSettings.Networks[nets.v6];
  assert.deepEqual(ep.IPAMConfig, { IPv4Address: `${v4}.10`, IPv6Address: `${v6}:10`, LinkLocalIPs: ['169.254.7.7', 'fe80::7'] });
  assert.deepEqual(ep.Links, [`${ctrs.b}:db`, ctrs.c]);
  assert.deepEqual((ep as { DriverOpts?: unknown }).DriverOpts, { Foo: 'BaR', x: 'Y' });
});

test('network connect with no options stores what docker stores; refusals as docker words them', async () => {
  const r = await h.run(`network connect ${nets.v6} ${ctrs.b}`);
  assert.equal(r.result.exitCode, 0, r.stderr);
  assert.equal(dockerCli(['network', 'connect', nets.v6, ctrs.c]).status, 0);
  const endpoint = `{{with index .NetworkSettings.Networks "${nets.v6}"}}{{json .IPAMConfig}} {{json .Links}} {{json .DriverOpts}}{{end}}`;
  const ours = (await h.run(quoteWords(['inspect', '-f', endpoint, ctrs.b]))).stdout;
  assert.equal(ours, dockerCli(['inspect', '-f', endpoint, ctrs.c]).stdout);
  await sameAsDocker(['network', 'connect', '--ip6', `${v6}:11`, 'bridge', ctrs.c]);
  await sameAsDocker(['network', 'connect', '--link', 'a:b:c', nets.v6, ctrs.c]);
  await sameAsDocker(['network', 'connect', '--driver-opt', 'novalue', nets.v6, ctrs.c]);
});
