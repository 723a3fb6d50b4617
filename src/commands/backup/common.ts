import { UsageError } from '../../errors.js';
import type { RunContext } from '../../jobs/types.js';
import type { BackupTarget, Manifest } from '../../backup/target.js';

/** docker's rule for local volume names, with its wording. */
export function checkVolumeName(name: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) {
    throw new UsageError(`"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`, 1);
  }
  return name;
}

export const BACKUP_ID = /^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$/;

/** A backup ID as `backup ls` prints it, or `latest` (with a volume to say whose). */
export function checkBackupId(id: string): string {
  if (id !== 'latest' && !BACKUP_ID.test(id)) throw new UsageError(`"${id}" is not a backup ID (they look like 20261201T031500Z-3fa2c1; see backup ls)`, 1);
  return id;
}

/**
 * Every target's backups (of one volume, or all). A target that cannot be read is named in
 * `errors` and the others are still listed.
 */
export async function listAll(ctx: RunContext, volume?: string): Promise<{ lists: { target: BackupTarget; manifests: Manifest[] }[]; errors: string[] }> {
  const lists: { target: BackupTarget; manifests: Manifest[] }[] = [];
  const errors: string[] = [];
  for (const target of ctx.backups.list) {
    try {
      lists.push({ target, manifests: await target.manifests(volume) });
    } catch (err) {
      errors.push(`backup target ${target.name} (${target.where}) cannot be read: ${(err as Error).message}`);
    }
  }
  return { lists, errors };
}

/** Finds a backup in every configured target (the first that has it). `latest` is a volume's newest. */
export async function findBackup(ctx: RunContext, id: string, volume?: string): Promise<{ target: BackupTarget; m: Manifest }> {
  const { lists, errors } = await listAll(ctx, id === 'latest' ? volume : undefined);
  for (const { target, manifests: all } of lists) {
    const m = id === 'latest' ? all.at(-1) : all.find((x) => x.id === id);
    if (m) return { target, m };
  }
  const also = errors.length ? ` (${errors.join('; ')})` : '';
  throw new UsageError(id === 'latest' ? `volume ${volume} has no backup (see backup ls)${also}` : `no backup ${id} (see backup ls)${also}`, 1);
}
