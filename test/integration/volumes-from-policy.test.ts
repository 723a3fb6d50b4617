import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { harness } from '../support/harness.js';
import { docker, uniqueName } from '../support/env.js';

/**
 * `--volumes-from C` hands over C's mounts, host binds included; the door cannot see them, so the
 * worker checks C on the engine against DOCKOPS_BIND_ALLOWLIST (closed here: the harness's worker
 * has no policy, so nothing is allowed) before it creates anything.
 */
let h: Awaited<ReturnType<typeof harness>>;
let dir: string;
const names: string[] = [];

before(async () => {
  h = await harness();
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockops-vf-'));
});

after(async () => {
  for (const n of names) await docker().getContainer(n).remove({ force: true, v: true }).catch(() => undefined);
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

test('--volumes-from a container with a host bind mount is refused, naming the path; nothing is created', async () => {
  const lender = uniqueName('lender');
  names.push(lender);
  // Made on the engine directly (dockops's own policy would refuse this bind): never started.
  await docker().createContainer({ name: lender, Image: 'busybox:latest', Cmd: ['true'], Labels: { 'dockops.test': 'volumes-from' }, HostConfig: { Binds: [`${dir}:/hostdir`] } });
  const borrower = uniqueName('borrower');
  names.push(borrower);
  const r = await h.run(`run --name ${borrower} --volumes-from ${lender}:ro busybox ls /hostdir`);
  assert.equal(r.result.exitCode, 125);
  assert.match(r.stderr, new RegExp(`refused by policy: --volumes-from ${lender} would mount ${dir} from the host \\(${lender} has it bind-mounted\\), outside the allowed host paths \\(none\\)`));
  assert.equal((await docker().listContainers({ all: true, filters: { name: [borrower] } })).length, 0, 'no container was created');
  const c = await h.run(`create --volumes-from ${lender} busybox`);
  assert.equal(c.result.exitCode, 125);
  assert.match(c.stderr, /refused by policy: --volumes-from/);
});
