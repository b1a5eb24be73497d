import { lstat, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hexOf, isDigest, type DiffID } from '../core/digest.ts';
import { isErrno } from '../core/errors.ts';
import { tmpName } from '../store/atomicFile.ts';
import { bootId } from '../store/deferredSync.ts';

/** DIFFID_FILE sits beside a snapshot's fs/ and holds the layer's full DiffID (the dir name is its first 16 hex digits). */
export const DIFFID_FILE = 'diffid';

/** UNSYNCED_FILE is the marker beside a snapshot's fs/ until a sync made it durable: it holds the boot id. */
export const UNSYNCED_FILE = 'unsynced';

/** SnapshotCheck is what a snapshot directory's metadata says about it. */
export type SnapshotCheck =
  | { kind: 'absent' }
  | { kind: 'sound'; diffID: DiffID }
  | { kind: 'damaged'; problem: string };

/**
 * checkSnapshotDir reads the metadata of the snapshot directory dir, named name (16 hex
 * digits): sound when `diffid` holds a DiffID that starts with name, fs/ is a directory
 * and no `unsynced` marker of another boot says an OS crash came before it was durable.
 * Anything else (an empty, cut or garbage `diffid`, no fs/, a marker of another boot) is
 * damage that re-extracting the layer heals. Three reads; the file contents are not checked.
 */
export async function checkSnapshotDir(dir: string, name: string): Promise<SnapshotCheck> {
  const [recorded, unsynced, fs] = await Promise.all([
    readIfExists(join(dir, DIFFID_FILE)),
    readIfExists(join(dir, UNSYNCED_FILE)),
    lstat(join(dir, 'fs')).catch((e: unknown) => { if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return undefined; throw e; }),
  ]);
  if (recorded === undefined) {
    const st = await lstat(dir).catch((e: unknown) => { if (isErrno(e, 'ENOENT')) return undefined; throw e; });
    if (st === undefined) return { kind: 'absent' };
    return { kind: 'damaged', problem: st.isDirectory() ? `no ${DIFFID_FILE} file` : 'not a directory' };
  }
  const id = recorded.trim();
  if (id === '') return { kind: 'damaged', problem: `${DIFFID_FILE} file is empty` };
  if (!isDigest(id)) return { kind: 'damaged', problem: `${DIFFID_FILE} file holds no DiffID (${JSON.stringify(id.slice(0, 24))}…)` };
  if (!hexOf(id as string as DiffID).startsWith(name)) return { kind: 'damaged', problem: `${DIFFID_FILE} file names another layer (${id})` };
  if (!fs?.isDirectory()) return { kind: 'damaged', problem: 'no fs/ directory' };
  if (unsynced !== undefined && unsynced.trim() !== bootId()) return { kind: 'damaged', problem: 'written before an OS crash that came before it was synced' };
  return { kind: 'sound', diffID: id as string as DiffID };
}

/**
 * dropSnapshot removes the damaged snapshot dir (named name): renamed into tmpDir first,
 * so no one sees it half-deleted. Damaged metadata (the default) is checked again after
 * the rename: if another process healed it between the caller's check and the rename, the
 * sound snapshot is put back rather than deleted (it may be mounted). A snapshot whose
 * files were found damaged (metadataDamaged false) goes whatever its metadata says.
 */
export async function dropSnapshot(dir: string, name: string, tmpDir: string, metadataDamaged = true): Promise<void> {
  const stale = tmpName(tmpDir, 'stale');
  try {
    await rename(dir, stale);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return;
    throw e;
  }
  if (metadataDamaged && (await checkSnapshotDir(stale, name)).kind === 'sound') {
    // Healed meanwhile; if yet another copy took its place, ours stays in tmp/ until cleaned up.
    await rename(stale, dir).catch(() => undefined);
    return;
  }
  await rm(stale, { recursive: true, force: true });
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}
