import { lstat, lutimes, readdir, rm, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DiffID } from '../core/digest.ts';
import { osPath } from '../core/names.ts';
import { MediaType } from '../oci/mediaTypes.ts';
import type { ContentStore } from '../store/types.ts';
import { destroyOnAbort } from './destroyOnAbort.ts';
import { writeLayerTar } from './layerTar.ts';
import type { CommitOptions, LayerBlob } from './types.ts';

/** LayerAdopter takes a committed directory as a layer's extracted form (OverlaySnapshotter does). */
export interface LayerAdopter {
  adopt(dir: string, layer: LayerBlob): Promise<void>;
}

/** CommitDirOptions are CommitOptions plus where the directory goes afterwards. */
export interface CommitDirOptions extends CommitOptions {
  /** When given, dir is moved into it as the layer's snapshot (no re-extraction); else dir is left as is. */
  adopt?: LayerAdopter;
}

/**
 * commitDir turns dir (an overlay upper dir, or a fresh directory COPY wrote
 * into) into an uncompressed layer blob: writeLayerTar streamed straight into
 * a store BlobWriter, hashed on the way, so DiffID = digest and nothing is
 * buffered. Returns null (and stores nothing) when dir holds no entry.
 * With adopt, what the tar left out (empty mount-point stubs, sockets) is
 * removed from dir first, so the snapshot and the layer agree; with adopt and
 * sourceDateEpoch, so do their times (settleTimes).
 */
export async function commitDir(store: ContentStore, dir: string, opts: CommitDirOptions = {}): Promise<LayerBlob | null> {
  if (opts.adopt && opts.sourceDateEpoch !== undefined) await settleTimes(dir, opts.sourceDateEpoch);
  const w = await store.writer();
  const stopListening = destroyOnAbort(w.stream, opts.signal);
  let layer: LayerBlob;
  let omitted: string[];
  try {
    const stats = await writeLayerTar(dir, w.stream, opts);
    omitted = stats.omitted;
    if (stats.entries === 0) {
      await w.abort();
      return null;
    }
    const { digest, size } = await w.commit();
    layer = { diffID: digest as string as DiffID, digest, size, mediaType: MediaType.OciLayer };
  } catch (e) {
    await w.abort();
    throw e;
  } finally {
    stopListening();
  }
  if (opts.adopt) {
    // The adopted dir must hold exactly what the tar holds, or later mounts would see the stubs.
    for (const rel of omitted) await removeKeepingParentTimes(join(dir, rel));
    await opts.adopt.adopt(dir, layer);
  }
  return layer;
}

/**
 * settleTimes gives every entry below dir (not dir itself) the times the layer tar records
 * and extraction restores: mtime in whole seconds clamped to epoch, atime the same. A dir
 * adopted as a snapshot is then what a later step would see of the layer extracted from its
 * blob, so a build that reuses the layer from the cache (its record and blob, not this
 * snapshot) runs its later steps on the same times and gives the same layers. Setting a
 * child's times does not change its directory's. Names stay bytes (Buffer paths).
 */
async function settleTimes(dir: string, epoch: number): Promise<void> {
  const walk = async (d: Buffer): Promise<void> => {
    for (const name of await readdir(d, { encoding: 'buffer' })) {
      const p = Buffer.concat([d, SLASH, name]);
      const st = await lstat(p, { bigint: true });
      const t = Math.min(Number(st.mtimeNs / 1_000_000_000n), epoch);
      const want = BigInt(t) * 1_000_000_000n;
      if (st.mtimeNs !== want || st.atimeNs !== want) await lutimes(p, t, t);
      if (st.isDirectory()) await walk(p);
    }
  };
  await walk(Buffer.from(dir));
}

const SLASH = Buffer.from('/');

/** removeKeepingParentTimes deletes p without touching its parent's mtime (which the tar already recorded). */
async function removeKeepingParentTimes(p: string): Promise<void> {
  const parent = dirname(p);
  const st = await lstat(osPath(parent));
  await rm(osPath(p), { recursive: true, force: true });
  await utimes(osPath(parent), st.atime, st.mtime);
}
