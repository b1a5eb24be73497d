import { lstat, rm, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DiffID } from '../core/digest.ts';
import { osPath } from '../core/names.ts';
import { MediaType } from '../oci/mediaTypes.ts';
import type { ContentStore } from '../store/types.ts';
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
 * removed from dir first, so the snapshot and the layer agree.
 */
export async function commitDir(store: ContentStore, dir: string, opts: CommitDirOptions = {}): Promise<LayerBlob | null> {
  const w = await store.writer();
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
  }
  if (opts.adopt) {
    // The adopted dir must hold exactly what the tar holds, or later mounts would see the stubs.
    for (const rel of omitted) await removeKeepingParentTimes(join(dir, rel));
    await opts.adopt.adopt(dir, layer);
  }
  return layer;
}

/** removeKeepingParentTimes deletes p without touching its parent's mtime (which the tar already recorded). */
async function removeKeepingParentTimes(p: string): Promise<void> {
  const parent = dirname(p);
  const st = await lstat(osPath(parent));
  await rm(osPath(p), { recursive: true, force: true });
  await utimes(osPath(parent), st.atime, st.mtime);
}
