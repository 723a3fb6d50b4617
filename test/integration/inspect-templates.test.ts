import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../support/harness.js';
import { DOCKER_CLI, docker, dockerCli, uniqueName } from '../support/env.js';
import { quoteWords } from '../../src/commands/tokenize.js';

/**
 * `inspect -f` parity: the same Go template through dockops and through Debian's docker CLI
 * (20.10, which runs templates over its Go structs, then over the raw JSON) against the same
 * objects must print the same stdout and stderr with the same exit code. Objects have unique
 * names and are removed in `after`. Containers have one mount each: the engine returns several
 * in random order, which would make even two docker runs differ.
 */
let h: Awaited<ReturnType<typeof harness>>;
const names = { net: uniqueName('tplnet'), vol: uniqueName('tplvol'), web: uniqueName('tplweb'), hc: uniqueName('tplhc') };
const subnet = `10.214.${Math.floor(Math.random() * 251)}.0/24`;

before(async () => {
  h = await harness();
  await h.jobs.queueEvents('local');
  const ok = (words: string[]) => {
    const r = dockerCli(words);
    assert.equal(r.status, 0, `${words.join(' ')}: ${r.stderr}`);
  };
  ok(['network', 'create', '--subnet', subnet, '--label', 'tier=test', names.net]);
  ok(['volume', 'create', '--label', 'tier=test', names.vol]);
  // Running: ports (one bound, one ephemeral udp), labels, a named volume, restart policy, a network, no health check.
  ok([
    'run', '-d', '--name', names.web, '-p', '127.0.0.1:0:80', '-p', '127.0.0.1::81/udp', '-l', 'a=1', '-l', 'b=two', '-v', `${names.vol}:/data`,
    '--restart', 'on-failure:3', '--network', names.net, '--no-healthcheck', '-e', 'X=1', 'busybox:latest', 'sleep', '600',
  ]);
  // Created: a health check with durations, ulimits, a pids limit, --init, a tmpfs mount, a stop timeout.
  ok([
    'create', '--name', names.hc, '--health-cmd', 'true', '--health-interval', '90s', '--health-timeout', '1500ms', '--health-start-period', '2m3s',
    '--health-retries', '2', '--ulimit', 'nofile=100:200', '--pids-limit', '50', '--init', '--mount', 'type=tmpfs,target=/t,tmpfs-size=1000000',
    '--stop-timeout', '7', '--cap-add', 'NET_ADMIN', 'busybox:latest', 'true',
  ]);
});

after(async () => {
  const d = docker();
  for (const c of [names.web, names.hc]) await d.getContainer(c).remove({ force: true }).catch(() => undefined);
  await d.getNetwork(names.net).remove().catch(() => undefined);
  await d.getVolume(names.vol).remove({ force: true }).catch(() => undefined);
  await h.close();
});

/** Go prints a pointer nested in a struct as its address, which differs on every run of docker. */
const noAddresses = (s: string) => s.replace(/0xc[0-9a-f]{6,}/g, '0xADDR');

async function same(words: string[], opts: { addresses?: boolean } = {}) {
  const norm = opts.addresses ? noAddresses : (s: string) => s;
  const ours = await h.run(quoteWords(words));
  const theirs = dockerCli(words);
  assert.deepEqual(
    { out: norm(ours.stdout), err: ours.stderr, code: ours.result.exitCode },
    { out: norm(theirs.stdout), err: theirs.stderr, code: theirs.status },
    `docker ${words.join(' ')} (vs ${DOCKER_CLI})`,
  );
}

const containerTemplates = [
  // top-level fields, promoted from the embedded *ContainerJSONBase
  '{{.Name}} {{.ID}} {{.Path}} {{.Args}} {{.RestartCount}} {{.Driver}} {{.Platform}}',
  '{{.ExecIDs}} {{json .ExecIDs}}',
  // nested structs and pointers to structs
  '{{.State}}',
  '{{print .State}}',
  '{{.State.Status}} {{.State.Running}} {{.State.ExitCode}} {{.State.FinishedAt}}',
  '{{.HostConfig.RestartPolicy}} {{.HostConfig.LogConfig}}',
  '{{.GraphDriver.Name}}',
  '{{.Mounts}}',
  '{{(index .Mounts 0).Type}} {{(index .Mounts 0).RW}}',
  // maps: keys sorted as fmt does
  '{{.NetworkSettings.Ports}}',
  '{{.HostConfig.PortBindings}}',
  '{{.Config.ExposedPorts}} {{.Config.Labels}} {{.Config.Volumes}}',
  '{{.Config.Labels.a}}|{{.Config.Labels.zz}}|{{index .Config.Labels "b"}}|{{index .Config.Labels "zz"}}',
  '{{range $p, $b := .NetworkSettings.Ports}}{{$p}}={{range $b}}{{.HostIp}}{{end}} {{end}}',
  '{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}};{{end}}',
  '{{range .NetworkSettings.Networks}}{{.IPPrefixLen}} {{.Aliases}} {{.IPAMConfig}} {{.DriverOpts}}{{end}}',
  // slices
  '{{.Config.Env}} {{.Config.Cmd}} {{.Config.Entrypoint}} {{len .Config.Env}} {{join .Config.Cmd " "}}',
  '{{.HostConfig.Binds}} {{.HostConfig.CapAdd}} {{.HostConfig.ConsoleSize}} {{.HostConfig.Dns}}',
  // nil pointers and pointers to scalars, at the top and inside a struct
  '{{.Config.Healthcheck}}',
  '{{printf "%v" .Config.Healthcheck}}',
  '{{.State.Health}} {{.SizeRw}} {{.Node}} {{.HostConfig.PidsLimit}} {{.HostConfig.OomKillDisable}} {{.HostConfig.Init}} {{.Config.StopTimeout}}',
  '{{.HostConfig.Ulimits}} {{(index .HostConfig.Mounts 0).Target}}',
  '{{.Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}}',
  // json of structs, maps, slices, nil
  '{{json .State}}',
  '{{json .Config}}',
  '{{json .HostConfig}}',
  '{{json .NetworkSettings.Ports}} {{json .Config.Labels}} {{json .Mounts}}',
  '{{json .Config.Healthcheck}}',
  '{{json .}}',
  // control flow and functions
  '{{if .State.Running}}up{{else}}down{{end}} {{with .Config.Healthcheck}}hc {{.Retries}}{{else}}no hc{{end}}',
  '{{eq .State.Status "running"}} {{upper .State.Status}} {{len .Mounts}}',
  // the JSON's own names work through docker's fallback to the raw JSON
  '{{.Id}} {{.State.Pid | printf "%v" | len | lt 0}}',
  '{{.Id}} {{.State}} {{.Config.Volumes}} {{index .Config.Labels "zz"}}',
  // …where numbers are json.Number, a string to Go
  '{{.Id}} {{printf "%d|%v" .State.Pid .RestartCount}} {{if .State.ExitCode}}true{{end}} {{json .State.ExitCode}}',
  '{{.Id}} {{if eq .State.ExitCode 0}}zero{{end}}',
  // errors: on the typed value, then on the raw JSON (missingkey=error), one line per container
  '{{.Nope}}',
  '{{.State.Health.Status}}',
  '{{(index .Mounts 1).Name}}',
  '{{index .Config.Cmd 5}}',
];

for (const [i, tpl] of containerTemplates.entries()) {
  test(`inspect -f parity ${i + 1}: ${tpl}`, async () => {
    await same(['inspect', '-f', tpl, names.web, names.hc]);
    await same(['container', 'inspect', '-f', tpl, names.hc, names.web]);
  });
}

test('inspect -f: structs holding pointers print the same, addresses aside', async () => {
  for (const tpl of ['{{.}}', '{{.HostConfig.Mounts}}', '{{.HostConfig}}', '{{.Config}}', '{{.NetworkSettings}}', '{{.NetworkSettings.Networks}}', '{{.ContainerJSONBase}}']) {
    await same(['inspect', '-f', tpl, names.web, names.hc], { addresses: true });
  }
});

test('inspect -s -f: the sizes are pointers the template follows', async () => {
  await same(['inspect', '-s', '-f', '{{.SizeRootFs}} {{gt .SizeRootFs 0}}', names.hc]);
  await same(['container', 'inspect', '-s', '-f', '{{.SizeRw}}', names.hc]);
});

const networkTemplates = [
  '{{.}}',
  '{{.Name}} {{.Created}} {{.Scope}} {{.Driver}} {{.EnableIPv6}} {{.Internal}} {{.ConfigFrom}} {{.ConfigOnly}}',
  '{{.IPAM}} {{.IPAM.Config}} {{(index .IPAM.Config 0).Subnet}}',
  '{{.Containers}} {{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}',
  '{{.Options}} {{.Labels}} {{.Peers}} {{.Services}}',
  '{{json .}}',
  '{{json .IPAM}} {{json .Containers}} {{json .Peers}}',
  '{{.Id}} {{.IPAM}}',
  '{{.Nope}}',
];

test('network inspect -f / inspect --type network -f parity', async () => {
  for (const tpl of networkTemplates) {
    await same(['network', 'inspect', '-f', tpl, names.net]);
    await same(['inspect', '--type', 'network', '-f', tpl, names.net]);
  }
  await same(['network', 'inspect', names.net]);
  await same(['inspect', names.net]);
});

const volumeTemplates = ['{{.}}', '{{.Name}} {{.Labels}} {{.Options}} {{.Status}} {{.UsageData}}', '{{json .}}', '{{json .Status}}', '{{.UsageData.Size}}', '{{.Nope}}'];

test('volume inspect -f / inspect --type volume -f parity (volume inspect has no raw fallback)', async () => {
  for (const tpl of volumeTemplates) {
    await same(['volume', 'inspect', '-f', tpl, names.vol]);
    await same(['inspect', '--type', 'volume', '-f', tpl, names.vol]);
  }
  await same(['volume', 'inspect', names.vol]);
  await same(['inspect', names.vol]);
});

test('a template that does not parse: exit 64 for every inspect verb, as docker', async () => {
  for (const verb of [['inspect'], ['container', 'inspect'], ['network', 'inspect'], ['volume', 'inspect'], ['image', 'inspect']]) {
    const theirs = dockerCli([...verb, '-f', '{{.Id', names.web]);
    let ours: { code: number; err: string };
    try {
      const r = await h.run(quoteWords([...verb, '-f', '{{.Id', names.web]));
      ours = { code: r.result.exitCode, err: r.stderr };
    } catch (err) {
      // Refused before it is queued (inspect, container inspect): the same words and code.
      ours = { code: (err as { exitCode: number }).exitCode, err: `${(err as Error).message}\n` };
    }
    assert.deepEqual(ours, { code: theirs.status, err: theirs.stderr }, verb.join(' '));
  }
});
