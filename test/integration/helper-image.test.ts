import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensureHelperImage, HELPER_IMAGE, withVolumeContainer } from '../../src/backup/volumes.js';
import { dockerB, uniqueName } from '../support/env.js';

/**
 * On a fresh engine the never-started helper image (what backups and `cp` mount volumes on) does not
 * exist yet: dockops imports it from an empty tar, offline. Engine b stands in for the fresh engine.
 */
test('the helper image is made on an engine that lacks it, and a volume can then be mounted on it', async () => {
  const d = dockerB();
  const leftovers = await d.listContainers({ all: true, filters: { ancestor: [HELPER_IMAGE] } });
  for (const c of leftovers) await d.getContainer(c.Id).remove({ force: true });
  await d.getImage(HELPER_IMAGE).remove({ force: true }).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 404) throw err;
  });
  await assert.rejects(d.getImage(HELPER_IMAGE).inspect(), (err: { statusCode?: number }) => err.statusCode === 404);

  await ensureHelperImage(d);
  const img = await d.getImage(HELPER_IMAGE).inspect();
  assert.equal(img.Size, 0, 'the helper image is empty');
  assert.deepEqual(img.RepoTags, [HELPER_IMAGE]);
  // Made once: a second call finds it and leaves it alone.
  await ensureHelperImage(d);
  assert.equal((await d.getImage(HELPER_IMAGE).inspect()).Id, img.Id);

  const vol = uniqueName('helperimg');
  await d.createVolume({ Name: vol });
  try {
    const mounted = await withVolumeContainer(d, [{ volume: vol, at: vol }], 'helper-image-test', async (c) => (await c.inspect()).Mounts.map((m) => m.Name));
    assert.deepEqual(mounted, [vol]);
  } finally {
    await d.getVolume(vol).remove({ force: true });
  }
});
