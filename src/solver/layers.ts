import type { Digest, DiffID } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import type { CacheRecord } from '../cache/types.ts';
import type { LayerBlob } from '../snapshot/types.ts';
import type { StepContext } from './solve.ts';

/**
 * lookupRecord finds a usable cache record for key: the local cache first, then
 * records imported with --cache-from. A record is usable when its layer blob is
 * in the store or can be fetched; nothing is fetched here (see ensureLayers), so a
 * hit whose result is never needed locally costs no download.
 */
export async function lookupRecord(sc: StepContext, key: Digest): Promise<CacheRecord | undefined> {
  if (sc.opts.noCache) return undefined;
  const local = await sc.deps.cache.get(key);
  if (local && (!local.layer || (await sc.deps.store.has(local.layer.digest)) || sc.deps.remoteCache?.canFetch(local.layer))) return local;
  const remote = sc.deps.remoteCache?.get(key);
  if (remote && (!remote.layer || (await sc.deps.store.has(remote.layer.digest)) || sc.deps.remoteCache?.canFetch(remote.layer))) return remote;
  return undefined;
}

/** ensureBlobs makes sure each layer's blob is in the local store, fetching from the remote cache if needed. */
export async function ensureBlobs(sc: StepContext, layers: readonly LayerBlob[]): Promise<void> {
  for (const l of layers) {
    if (await sc.deps.store.has(l.digest)) continue;
    if (!sc.deps.remoteCache?.canFetch(l)) throw new TsbuildError('BLOB_UNKNOWN', `layer ${l.digest} is missing from the store`, { hint: 'rebuild with --no-cache' });
    await sc.deps.remoteCache.fetchLayer(l);
  }
}

/** ensureLayers makes every layer available as an extracted snapshot (for overlay lowers or a layer-dir view). */
export async function ensureLayers(sc: StepContext, layers: readonly LayerBlob[]): Promise<void> {
  for (const l of layers) {
    if (await sc.deps.snapshotter.has(l.diffID)) continue;
    await ensureBlobs(sc, [l]);
    await sc.deps.snapshotter.ensure(l.diffID, () => sc.deps.store.open(l.digest));
  }
}

/**
 * overlayParents gives the diffIDs to stack as overlay lowers for layers (base first). A layer
 * that occurs twice (the empty layer of two WORKDIRs, the same COPY repeated after a RUN
 * removed it) is kept only at its topmost position: overlayfs refuses a lowerdir listed
 * twice, and since the upper copy re-applies every change of the lower one, dropping the
 * lower copy leaves the merged view unchanged.
 */
export function overlayParents(layers: readonly LayerBlob[]): DiffID[] {
  const seen = new Set<DiffID>();
  const out: DiffID[] = [];
  for (let i = layers.length - 1; i >= 0; i--) {
    const d = layers[i]!.diffID;
    if (seen.has(d)) continue;
    seen.add(d);
    out.push(d);
  }
  return out.reverse();
}
