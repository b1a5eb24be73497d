import { randomBytes } from 'node:crypto';
import { access, link, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../core/errors.ts';
import { ownId } from './liveness.ts';
import { FILE_MODE } from './permissions.ts';

/**
 * tmpName returns a fresh, unguessable path in the store's staging dir tmpDir:
 * `<prefix>-<owner id>-<random>`, the id this process is alive by (liveness.ts), so that
 * cleanupStaleTmp removes it only once this process is gone.
 */
export function tmpName(tmpDir: string, prefix: string): string {
  return join(tmpDir, `${prefix}-${ownId(tmpDir)}-${randomBytes(6).toString('hex')}`);
}

/**
 * siblingTmpName names a staging file next to file, for the caches that write in place
 * under ROOT/cache (stat cache, compressed layer and blob source records) of the store
 * whose staging dir is tmpDir: `<file>.<owner id>.<random>.tmp`. The id is this process's
 * liveness id, so `tsbuild fsck` removes such a file only once its writer is gone
 * (SIBLING_TMP), never judging by a pid.
 */
export function siblingTmpName(tmpDir: string, file: string): string {
  return `${file}.${ownId(tmpDir)}.${randomBytes(6).toString('hex')}.tmp`;
}

/** SIBLING_TMP matches a name siblingTmpName made; group 1 is the owner id. */
export const SIBLING_TMP = /\.([0-9a-f]{16})\.[0-9a-f]+\.tmp$/;

/** writeStaged writes data to a new file in tmpDir and fsyncs it (unless sync is false); returns the staged path. */
export async function writeStaged(tmpDir: string, data: Uint8Array | string, sync = true): Promise<string> {
  const tmp = tmpName(tmpDir, 'file');
  const fh = await open(tmp, 'wx', FILE_MODE);
  try {
    await fh.writeFile(data);
    if (sync) await fh.sync();
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  } finally {
    await fh.close();
  }
  return tmp;
}

/**
 * writeFileAtomic replaces dest with data: staged in tmpDir (same filesystem), fsynced,
 * then renamed, so readers see the old or the new content, never a torn file. With
 * beforeRename the file is not fsynced: beforeRename (DeferredSync.begin) is awaited instead.
 */
export async function writeFileAtomic(tmpDir: string, dest: string, data: Uint8Array | string, beforeRename?: (dest: string, size: number) => Promise<unknown>): Promise<void> {
  const tmp = await writeStaged(tmpDir, data, beforeRename === undefined);
  try {
    if (beforeRename) await beforeRename(dest, typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
    await rename(tmp, dest);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** createFileAtomic creates dest with data unless it exists already (then it is left as is). */
export async function createFileAtomic(tmpDir: string, dest: string, data: Uint8Array | string): Promise<void> {
  // Every command opens the store: when the file is there, stage and fsync nothing.
  if (await exists(dest)) return;
  const tmp = await writeStaged(tmpDir, data);
  try {
    await link(tmp, dest);
  } catch (e) {
    if (!isErrno(e, 'EEXIST')) throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return false;
    throw e;
  }
}
