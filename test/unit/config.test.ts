import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.js';

test('defaults give a working local setup', () => {
  const c = loadConfig({ DOCKER_HOST: 'unix:///run/dockops/docker.sock' });
  assert.deepEqual(c.hosts, [{ name: 'local', url: 'unix:///run/dockops/docker.sock' }]);
  assert.equal(c.defaultHost, 'local');
  assert.equal(c.redisUrl, 'redis://127.0.0.1:6379');
  assert.equal(c.port, 8080);
  assert.equal(c.policy.allowPrivileged, false);
});

test('several hosts and tokens', () => {
  const c = loadConfig({
    DOCKOPS_DOCKER_HOSTS: 'a=unix:///run/a.sock, b=tcp://127.0.0.1:2375',
    DOCKOPS_DEFAULT_HOST: 'b',
    DOCKOPS_API_TOKENS: 'ci:0123456789abcdef,ops:fedcba9876543210',
  });
  assert.deepEqual(c.hosts.map((h) => h.name), ['a', 'b']);
  assert.equal(c.defaultHost, 'b');
  assert.equal(c.apiTokens.get('0123456789abcdef'), 'ci');
});

test('a wrong variable stops start-up naming the variable and the fix', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL: must start with redis:\/\//],
    [{ DOCKOPS_PORT: 'eighty' }, /DOCKOPS_PORT/],
    [{ DOCKOPS_DOCKER_HOSTS: 'nourl' }, /DOCKOPS_DOCKER_HOSTS: "nourl" is not NAME=URL/],
    [{ DOCKOPS_DOCKER_HOSTS: 'a=unix:///x', DOCKOPS_DEFAULT_HOST: 'b' }, /DOCKOPS_DEFAULT_HOST: "b" is not one of/],
    [{ DOCKOPS_API_TOKENS: 'ci:short' }, /DOCKOPS_API_TOKENS: .*16 or more characters/],
    [{ DOCKOPS_BIND_ALLOWLIST: 'relative/path' }, /DOCKOPS_BIND_ALLOWLIST/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ DOCKOPS_LOG_DRIVERS: 'json-file,gelf address' }, /DOCKOPS_LOG_DRIVERS: must be log driver names/],
    [{ DOCKOPS_POLICY_FILE: '/nonexistent/policy.yml' }, /DOCKOPS_POLICY_FILE: .*no such file/],
    [{ SLACK_APP_TOKEN: 'xoxb-1' }, /SLACK_APP_TOKEN: must be an app-level token \(xapp-…\)/],
  ];
  for (const [env, re] of bad) {
    assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && re.test((e as Error).message), JSON.stringify(env));
  }
});

test('SLACK_APP_TOKEN alone turns the Slack door on in Socket Mode (no HTTP endpoint without a signing secret)', () => {
  const c = loadConfig({ SLACK_APP_TOKEN: 'xapp-1-A0-123-abc', SLACK_BOT_TOKEN: 'xoxb-1' });
  assert.equal(c.slack?.appToken, 'xapp-1-A0-123-abc');
  assert.deepEqual(c.slack?.signingSecrets, []);
});
