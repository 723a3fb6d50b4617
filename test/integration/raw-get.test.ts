import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { docker, uniqueName } from '../support/env.js';
import { fillVolume } from '../support/volume-fixture.js';
import { rawGet, rawGetInto, EngineAnswerError } from '../../src/docker/raw-get.js';
import { readVolume, readVolumeInto } from '../../src/backup/volumes.js';
import { DockerError } from '../../src/errors.js';

/**
 * The engine's archive read off its socket (HTTP/1.0, no chunk framing): the same bytes dockerode
 * gets, the engine's errors in docker-modem's shape, back-pressure, abort and a consumer's failure.
 */
const d = docker();
const vol = uniqueName('rawget');
let c: Docker.Container;
const archive = () => `/containers/${c.id}/archive?path=${encodeURIComponent(`/${vol}`)}`;

before(async () => {
  await d.createVolume({ Name: vol });
  await fillVolume(d, vol, { smallFiles: 300, bigBytes: 24 << 20 });
  c = await d.createContainer({ Image: 'busybox:latest', Cmd: ['true'], HostConfig: { Binds: [`${vol}:/${vol}:ro`] } });
});
after(async () => {
  await c?.remove({ force: true }).catch(() => undefined);
  await d.getVolume(vol).remove({ force: true }).catch(() => undefined);
});

async function digest(s: Readable, slow = false): Promise<{ sha: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of s) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    // A slow reader: the socket must wait for it, not the process's memory.
    if (slow && bytes % 7 === 0) await new Promise((r) => setImmediate(r));
    if (slow) await new Promise((r) => setImmediate(r));
  }
  return { sha: h.digest('hex'), bytes };
}

test('the same archive as dockerode reads, as a stream and as views handed to a consumer', async () => {
  const expected = await digest((await c.getArchive({ path: `/${vol}` })) as unknown as Readable);
  assert.ok(expected.bytes > 24 << 20);
  const raw = rawGet(c, archive());
  assert.ok(raw, 'a unix socket host is read off the socket');
  assert.deepEqual(await digest(await raw!, true), expected);

  const h = createHash('sha256');
  let bytes = 0;
  let largest = 0;
  let reads = 0;
  await rawGetInto(c, archive(), undefined, (views) => {
    reads++;
    let inRead = 0;
    for (const v of views) {
      h.update(v);
      inRead += v.length;
    }
    bytes += inRead;
    largest = Math.max(largest, inRead);
  });
  assert.deepEqual({ sha: h.digest('hex'), bytes }, expected);
  assert.ok(largest <= 1 << 20, 'views of the 1 MiB read buffer, one call per socket read');
  assert.ok(reads > 1);

  const viaVolumes = await digest(await readVolume(c, vol, new AbortController().signal));
  assert.deepEqual(viaVolumes, expected);
});

test("the engine's error answers keep its status and words; readVolume words them as docker does", async () => {
  const missing = rawGet(d.getContainer('dockops-no-such-container-here'), '/containers/dockops-no-such-container-here/archive?path=%2F');
  await assert.rejects(missing!, (err: unknown) => {
    assert.ok(err instanceof EngineAnswerError);
    assert.equal(err.statusCode, 404);
    assert.match((err.json as { message: string }).message, /No such container: dockops-no-such-container-here/);
    return true;
  });
  const noPath = readVolume(c, 'no-such-dir-in-it', new AbortController().signal);
  await assert.rejects(noPath, (err: unknown) => {
    assert.ok(err instanceof DockerError);
    assert.match(err.message, /^Error response from daemon: Could not find the file \/no-such-dir-in-it in container /);
    return true;
  });
  const into = readVolumeInto(c, 'no-such-dir-in-it', new AbortController().signal, () => assert.fail('no body for an error'));
  await assert.rejects(into!, { message: /^Error response from daemon: Could not find the file \/no-such-dir-in-it in container / });
});

test('an abort or a failing consumer ends the read with its reason; an engine not behind a plain socket is left to dockerode', async () => {
  const ac = new AbortController();
  let calls = 0;
  const aborted = rawGetInto(c, archive(), ac.signal, () => {
    calls++;
    ac.abort();
  });
  await assert.rejects(aborted!, { name: 'AbortError' });
  assert.equal(calls, 1, 'nothing is handed on after the abort');

  const full = new Error('ENOSPC: no space left on device, write');
  await assert.rejects(rawGetInto(c, archive(), undefined, () => {
    throw full;
  })!, full);

  const tls = new Docker({ protocol: 'https', host: '127.0.0.1', port: 2376 });
  assert.equal(rawGet(tls, '/_ping'), undefined);
  assert.equal(rawGetInto(tls, '/_ping', undefined, () => undefined), undefined);
});
