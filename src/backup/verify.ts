import { randomBytes } from 'node:crypto';
import { DockerError } from '../errors.js';
import type { RunContext } from '../jobs/types.js';
import { archiveFacts, checkArchive, compareFacts, tarFacts } from './check.js';
import { createVolume, removeVolume, unpackInto } from './restore.js';
import type { BackupTarget, Manifest } from './target.js';
import { readVolume, withVolumeContainer } from './volumes.js';

/**
 * Proves a backup restores: its sha256, then a restore into a scratch volume whose every entry
 * (path, type, size, mode, owner, link target, sha256 of contents) is compared with the archive.
 * The scratch volume is removed afterwards; on success the manifest records when.
 */
export async function verifyBackup(ctx: RunContext, target: BackupTarget, m: Manifest): Promise<{ manifest: Manifest; entries: number }> {
  await checkArchive(target, m, ctx.signal);
  const want = await archiveFacts(target, m, ctx.signal, ctx.backups.settings.ageKeys);
  const scratch = `dockops-verify-${randomBytes(4).toString('hex')}`;
  await createVolume(ctx.docker, scratch, { driver: 'local', labels: {}, options: null }, { 'dockops.scratch': 'verify' });
  try {
    await unpackInto(ctx, target, m, scratch);
    const got = await withVolumeContainer(ctx.docker, [{ volume: scratch, at: m.root, readOnly: true }], ctx.jobId, async (c) =>
      tarFacts(await readVolume(c, m.root, ctx.signal), ctx.signal),
    );
    const diffs = compareFacts(want, got);
    if (diffs.length) throw new DockerError(`backup ${m.id} does not restore as archived:\n  ${diffs.join('\n  ')}`, 1);
  } finally {
    await removeVolume(ctx.docker, scratch);
  }
  const manifest = { ...m, verifiedAt: new Date(ctx.now()).toISOString() };
  await target.putManifest(manifest);
  return { manifest, entries: want.size };
}
