import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate } from '../../src/render/go-template.js';
import { GoFileMode, durationString } from '../../src/render/go-value.js';
import { typedContainer, typedNetwork, typedVolume } from '../../src/render/docker-types.js';
import { inspectOutput } from '../../src/render/inspect-output.js';

const run = (tpl: string, data: unknown) => compileTemplate(tpl, { rowContext: false })(data);

// Part of a real `GET /containers/{id}/json` (API 1.41): a running container with a published
// port, two labels, a named volume, a restart policy and no health check.
const raw = {
  Id: 'c0ffee',
  Created: '2026-12-01T09:20:33.723226965Z',
  Path: 'sleep',
  Args: ['600'],
  State: { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 42, ExitCode: 0, Error: '', StartedAt: '2026-12-01T09:20:34.1Z', FinishedAt: '0001-01-01T00:00:00Z' },
  Name: '/web',
  HostConfig: {
    Binds: ['v:/data'],
    PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] },
    RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
    Memory: 0,
    MemorySwappiness: null,
    OomKillDisable: false,
    PidsLimit: null,
    Ulimits: [{ Name: 'nofile', Hard: 200, Soft: 100 }],
    BlkioDeviceReadBps: [{ Path: '/dev/null', Rate: 1048576 }],
  },
  Mounts: [{ Type: 'volume', Name: 'v', Source: '/var/lib/docker/volumes/v/_data', Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }],
  Config: { Hostname: 'c0ffee', Env: ['PATH=/bin'], Cmd: ['sleep', '600'], Image: 'busybox', Labels: { a: '1', b: 'two' }, ExposedPorts: { '80/tcp': {} } },
  NetworkSettings: {
    Ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] },
    Networks: { n: { IPAMConfig: null, Links: null, Aliases: ['c0ffee'], NetworkID: 'abc', IPAddress: '10.0.0.2', IPPrefixLen: 24, DriverOpts: null } },
  },
};

test("Go's Duration.String and FileMode.String", () => {
  const d = (ns: number) => durationString(BigInt(ns));
  assert.equal(d(0), '0s');
  assert.equal(d(1_500_000_000), '1.5s');
  assert.equal(d(90e9), '1m30s');
  assert.equal(d(123e9), '2m3s');
  assert.equal(d(3600e9), '1h0m0s');
  assert.equal(d(1500), '1.5µs');
  assert.equal(d(2_000_000), '2ms');
  assert.equal(d(999), '999ns');
  assert.equal(d(-30e9), '-30s');
  assert.equal(new GoFileMode(1023).toString(), '-rwxrwxrwx');
  assert.equal(new GoFileMode(2 ** 31 + 0o755).toString(), 'drwxr-xr-x');
});

test('container templates see types.ContainerJSON: structs, maps, nil pointers as docker 20.10 prints them', () => {
  const c = typedContainer(raw);
  // Each expected string is what /usr/bin/docker (20.10.24) printed for the same template.
  assert.equal(run('{{.State}}', c), '{running true false false false false 42 0  2026-12-01T09:20:34.1Z 0001-01-01T00:00:00Z <nil>}');
  assert.equal(run('{{print .State}}', c), '&{running true false false false false 42 0  2026-12-01T09:20:34.1Z 0001-01-01T00:00:00Z <nil>}');
  assert.equal(run('{{.NetworkSettings.Ports}} {{.HostConfig.PortBindings}}', c), 'map[80/tcp:[{127.0.0.1 8080}]] map[80/tcp:[{127.0.0.1 8080}]]');
  assert.equal(run('{{.HostConfig.RestartPolicy}} {{.HostConfig.RestartPolicy.Name}}', c), '{on-failure 3} on-failure');
  assert.equal(run('{{.Config.Healthcheck}}|{{.State.Health}}|{{.HostConfig.PidsLimit}}|{{.SizeRw}}|{{.Node}}', c), '<nil>|<nil>|<nil>|<nil>|<nil>');
  assert.equal(run('{{.HostConfig.OomKillDisable}} {{.HostConfig.Ulimits}} {{.HostConfig.BlkioDeviceReadBps}}', c), 'false [nofile=100:200] [/dev/null:1048576]');
  assert.equal(run('{{.Mounts}}', c), '[{volume v /var/lib/docker/volumes/v/_data /data local z true }]');
  assert.equal(run('{{.Config.ExposedPorts}} {{.Config.Labels}} {{.Config.Volumes}} {{.Config.Entrypoint}} {{.ExecIDs}}', c), 'map[80/tcp:{}] map[a:1 b:two] map[] [] []');
  assert.equal(run('{{index .NetworkSettings.Networks "n"}}', c), '{<nil> [] [c0ffee] abc   10.0.0.2 24   0  map[]}');
  // Promoted fields of the embedded *ContainerJSONBase and Resources.
  assert.equal(run('{{.ID}} {{.Name}} {{.HostConfig.Memory}}', c), 'c0ffee /web 0');
  // A missing key of a typed map is the invalid value; index gives the element's zero value.
  assert.equal(run('{{.Config.Labels.zz}}|{{index .Config.Labels "zz"}}|{{index .Config.Labels "a"}}', c), '<no value>||1');
  assert.equal(run('{{range $p, $b := .NetworkSettings.Ports}}{{$p}}->{{(index $b 0).HostPort}}{{end}}', c), '80/tcp->8080');
  assert.equal(run('{{if .State.Running}}up{{end}} {{len .Mounts}} {{join .Config.Cmd ","}}', c), 'up 1 sleep,600');
  // json marshals the Go value: omitempty fields left out, embedded structs flattened.
  assert.equal(run('{{json .State}}', c), JSON.stringify(raw.State));
  assert.equal(run('{{json .Config.Healthcheck}} {{json .ExecIDs}} {{json .HostConfig.RestartPolicy}}', c), 'null null {"Name":"on-failure","MaximumRetryCount":3}');
  assert.throws(() => run('{{.State.Health.Status}}', c), /at <\.State\.Health\.Status>: nil pointer evaluating \*types\.Health\.Status$/);
  assert.throws(() => run('{{.Id}}', c), /can't evaluate field Id in type types\.ContainerJSON$/);
  assert.throws(() => run('{{index .Mounts 1}}', c), /error calling index: reflect: slice index out of range$/);
});

test('health check durations print as Go durations', () => {
  const c = typedContainer({ ...raw, Config: { ...raw.Config, Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 90e9, Timeout: 1.5e9, StartPeriod: 123e9, Retries: 2 } } });
  assert.equal(run('{{.Config.Healthcheck}}', c), '{[CMD-SHELL true] 1m30s 1.5s 2m3s 2}');
  assert.equal(run('{{printf "%v" .Config.Healthcheck}}', c), '&{[CMD-SHELL true] 1m30s 1.5s 2m3s 2}');
  assert.equal(run('{{.Config.Healthcheck.Interval.Seconds}} {{json .Config.Healthcheck}}', c), '90 {"Test":["CMD-SHELL","true"],"Interval":90000000000,"Timeout":1500000000,"StartPeriod":123000000000,"Retries":2}');
  assert.match(run('{{.Config}}', c), /^\{c0ffee {3}false false false map\[80\/tcp:\{\}\] false false false \[PATH=\/bin\] \[sleep 600\] 0x[0-9a-f]+ false busybox map\[\] {2}\[\] false {2}\[\] map\[a:1 b:two\] {2}<nil> \[\]\}$/);
});

test('network and volume templates see types.NetworkResource and types.Volume', () => {
  const n = typedNetwork({
    Name: 'net', Id: 'abc', Created: '2026-12-01T09:20:33.559309692Z', Scope: 'local', Driver: 'bridge', EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.231.0.0/24' }] }, Internal: false, Attachable: false, Ingress: false,
    ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: { c1: { Name: 'web', EndpointID: 'e', MacAddress: 'm', IPv4Address: '10.231.0.2/24', IPv6Address: '' } },
    Options: {}, Labels: {},
  });
  assert.equal(run('{{.}}', n), '{net abc 2026-12-01 09:20:33.559309692 +0000 UTC local bridge false {default map[] [{10.231.0.0/24   map[]}]} false false false {} false map[c1:{web e m 10.231.0.2/24 }] map[] map[] [] map[]}');
  assert.equal(run('{{json .IPAM}}', n), '{"Driver":"default","Options":{},"Config":[{"Subnet":"10.231.0.0/24"}]}');
  const v = typedVolume({ CreatedAt: '2026-12-01T09:20:33Z', Driver: 'local', Labels: {}, Mountpoint: '/m', Name: 'vol', Options: {}, Scope: 'local' });
  assert.equal(run('{{.}}', v), '{2026-12-01T09:20:33Z local map[] /m vol map[] local map[] <nil>}');
  assert.equal(run('{{json .}}', v), '{"CreatedAt":"2026-12-01T09:20:33Z","Driver":"local","Labels":{},"Mountpoint":"/m","Name":"vol","Options":{},"Scope":"local"}');
  assert.throws(() => run('{{.UsageData.Size}}', v), /nil pointer evaluating \*types\.VolumeUsageData\.Size$/);
  assert.throws(() => run('{{.UsageData.Nope}}', v), /can't evaluate field Nope in type \*types\.VolumeUsageData$/);
});

test('inspect output: the typed value first, then the raw JSON with missingkey=error, as docker does', () => {
  const item = { value: raw, typed: typedContainer(raw), fallback: true };
  assert.equal(inspectOutput([item], { format: '{{.Id}} {{.State.Status}}', htmlEscape: false }).stdout, 'c0ffee running\n');
  const r = inspectOutput([item], { format: '{{.Nope}}', htmlEscape: false });
  assert.deepEqual([r.stdout, r.stderr, r.exitCode], ['\n', 'template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"\n', 1]);
  // A raw JSON null prints "<no value>"; a missing map entry under missingkey=error fails.
  assert.equal(inspectOutput([item], { format: '{{.Id}} {{.HostConfig.PidsLimit}}', htmlEscape: false }).stdout, 'c0ffee <no value>\n');
  // Without raw bytes (volume inspect) the typed error is the one printed.
  const v = typedVolume({ Name: 'vol' });
  assert.equal(inspectOutput([{ value: v, typed: v }], { format: '{{.Nope}}', htmlEscape: false }).stderr, 'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type types.Volume\n');
});
