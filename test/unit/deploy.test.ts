import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ROOT } from '../support/service.js';

test('docker-compose accepts docker-compose.yml, with Redis on AOF and noeviction and the socket mounted', () => {
  const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DOCKOPS_API_TOKENS: 'ci:0123456789abcdef' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /- --appendonly\n\s*- "?yes"?\n/);
  assert.match(r.stdout, /- --maxmemory-policy\n\s*- "?noeviction"?\n/);
  // Longer than DOCKOPS_SHUTDOWN_GRACE_MS's default (30 s), so a stop drains instead of killing.
  assert.match(r.stdout, /stop_grace_period: 40s/);
  assert.match(r.stdout, /\/var\/run\/docker\.sock:\/var\/run\/docker\.sock/);
  assert.match(r.stdout, /registry:2/);
});

test('every variable the config reads is documented in .env.example', () => {
  const example = readFileSync(`${ROOT}/.env.example`, 'utf8');
  const config = readFileSync(`${ROOT}/src/config.ts`, 'utf8');
  const cli = readFileSync(`${ROOT}/src/doors/cli/cli.ts`, 'utf8');
  const vars = new Set([...`${config}\n${cli}`.matchAll(/\b((?:DOCKOPS|REDIS|DOCKER|LOG)_[A-Z_]+)\b/g)].map((m) => m[1]));
  for (const v of vars) assert.match(example, new RegExp(`^#? ?${v}=`, 'm'), `${v} is missing from .env.example`);
});
