import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, topHelp } from '../../src/commands/index.js';
import { requiredRole } from '../../src/policy/roles.js';
import { shownUrl } from '../../src/ops/hosts.js';

test('hosts: a verb of its own, for viewers, with -q and --format; --host picks where it runs', () => {
  const o = parseCommand('hosts');
  assert.equal(o.type, 'spec');
  assert.deepEqual(o.type === 'spec' && o.spec, { kind: 'hosts', quiet: false, format: undefined });
  const q = parseCommand('--host b hosts -q --format "{{.Name}}"');
  assert.ok(q.type === 'spec');
  assert.deepEqual(q.spec, { kind: 'hosts', quiet: true, format: '{{.Name}}' });
  assert.equal(q.host, 'b');
  assert.throws(() => parseCommand('hosts extra'), /"docker hosts" accepts no arguments/);
  assert.equal(requiredRole('hosts'), 'viewer');
  assert.match(topHelp(), /\n {2}hosts +List the Docker hosts dockops drives/);
});

test('hosts shows engine URLs without credentials', () => {
  assert.equal(shownUrl('tcp://admin:s3cret@10.0.0.2:2376'), 'tcp://10.0.0.2:2376');
  assert.equal(shownUrl('https://token@engine.example:2376/'), 'https://engine.example:2376/');
  assert.equal(shownUrl('unix:///run/dockops/docker-b.sock'), 'unix:///run/dockops/docker-b.sock');
});
