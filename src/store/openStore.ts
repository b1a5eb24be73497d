import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { OnDamage } from '../core/damage.ts';
import { TsbuildError } from '../core/errors.ts';
import { canonicalJson } from '../oci/canonicalJson.ts';
import { createFileAtomic } from './atomicFile.ts';
import { withFileLock } from './lock.ts';
import { DeferredSync, recoverUnsynced, type FlushFn } from './deferredSync.ts';
import { OciStore } from './ociStore.ts';
import { OciTagStore, emptyIndex } from './ociTagStore.ts';
import { DIR_MODE, secureRoot } from './permissions.ts';
import type { LocalStore, StoreDirs } from './types.ts';

/** storeDirs names the directories of the store at root (nothing is created). */
export function storeDirs(root: string): StoreDirs {
  const r = resolve(root);
  return {
    root: r,
    oci: join(r, 'oci'),
    snapshots: join(r, 'snapshots'),
    cache: join(r, 'cache'),
    containers: join(r, 'containers'),
    tmp: join(r, 'tmp'),
  };
}

/** OpenStoreOptions tune openStore. */
export interface OpenStoreOptions {
  /**
   * Write blobs without an fsync each, and make them durable later through this
   * (sys/mount.ts syncFsLater) when the store's `deferred` is flushed: see DeferredSync.
   */
  deferSync?: FlushFn;
  /** Told about damage the store heals on the way (a blob that does not match its digest, a torn index.json). */
  onDamage?: OnDamage;
}

/**
 * openStore opens (creating on first use) the store at root: the directories of
 * StoreDirs, and in oci/ a valid OCI image layout (oci-layout, empty index.json,
 * blobs/sha256/). Creation is idempotent and safe against concurrent openers.
 * The root is private to the user (secureRoot: 0700, owned by the effective uid;
 * an older, looser store is tightened). Blobs an OS crash may have torn (written
 * unsynced in another boot) are checked first (recoverUnsynced).
 */
export async function openStore(root: string, opts: OpenStoreOptions = {}): Promise<LocalStore> {
  const dirs = storeDirs(root);
  const locks = join(dirs.tmp, 'locks');
  try {
    await secureRoot(dirs);
    for (const d of [join(dirs.oci, 'blobs', 'sha256'), dirs.snapshots, dirs.cache, dirs.containers, locks]) {
      await mkdir(d, { recursive: true, mode: DIR_MODE });
    }
    await createFileAtomic(dirs.tmp, join(dirs.oci, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await createFileAtomic(dirs.tmp, join(dirs.oci, 'index.json'), canonicalJson(emptyIndex()));
  } catch (e) {
    if (e instanceof TsbuildError) throw e;
    throw new TsbuildError('IO', `open store ${dirs.root}: ${(e as Error).message}`, { cause: e });
  }
  const deferred = opts.deferSync ? new DeferredSync(dirs.root, opts.deferSync) : undefined;
  const onDamage = opts.onDamage ? { onDamage: opts.onDamage } : {};
  const content = new OciStore({ layoutDir: dirs.oci, tmpDir: dirs.tmp, ...(deferred ? { deferred } : {}), ...onDamage });
  const tags = new OciTagStore({ layoutDir: dirs.oci, tmpDir: dirs.tmp, ...onDamage });
  await recoverUnsynced(dirs.root, content, tags, opts.onDamage);
  return {
    dirs,
    content,
    tags,
    ...(deferred ? { deferred } : {}),
    withLock: (name, fn) => withFileLock(dirs.tmp, name, fn),
  };
}
