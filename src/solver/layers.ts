import { damageWarning, type StoreDamage } from '../core/damage.ts';
import type { Digest, DiffID } from '../core/digest.ts';
import { TsbuildError, isErrno } from '../core/errors.ts';
import type { CacheRecord } from '../cache/types.ts';
import type { LayerBlob } from '../snapshot/types.ts';
import type { StepContext } from './solve.ts';

/**
 * lookupRecord finds a usable cache record for key: the local cache first, then
 * records imported with --cache-from. A record is usable when its layer blob is
 * in the store whole or can be fetched; nothing is fetched here (see ensureLayers), so a
 * hit whose result is never needed locally costs no download.
 */
export async function lookupRecord(sc: StepContext, key: Digest): Promise<CacheRecord | undefined> {
  if (sc.opts.noCache) return undefined;
  const local = await sc.deps.cache.get(key);
  if (local && (await usable(sc, local))) return local;
  const remote = sc.deps.remoteCache?.get(key);
  if (remote && (await usable(sc, remote))) return remote;
  return undefined;
}

/**
 * usable: the record's layer is in the store with the size it was recorded with, or can be
 * fetched. A blob of another size was cut (or padded) by a crash: it is removed and reported,
 * so the step runs again (or the layer is fetched) and writes it whole. One stat, as has().
 */
async function usable(sc: StepContext, rec: CacheRecord): Promise<boolean> {
  if (!rec.layer) return true;
  const size = await blobSize(sc, rec.layer.digest);
  if (size === rec.layer.size) return true;
  if (size !== undefined) {
    await sc.deps.store.delete(rec.layer.digest);
    reportDamage(sc, { what: `blob ${rec.layer.digest}`, problem: `${size} bytes, recorded as ${rec.layer.size}`, action: 'removed', fixed: true });
  }
  return Boolean(sc.deps.remoteCache?.canFetch(rec.layer));
}

async function blobSize(sc: StepContext, d: Digest): Promise<number | undefined> {
  try {
    return await sc.deps.store.size(d);
  } catch (e) {
    if (e instanceof TsbuildError && e.code === 'BLOB_UNKNOWN') return undefined;
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/** reportDamage warns about damage the build healed on the way (as the CLI renders the store's). */
function reportDamage(sc: Pick<StepContext, 'deps'>, d: StoreDamage): void {
  sc.deps.events.emit({ type: 'warning', message: damageWarning(d), at: Date.now() });
}

/** ensureBlobs makes sure each layer's blob is in the local store, fetching from the remote cache if needed. */
export async function ensureBlobs(sc: StepContext, layers: readonly LayerBlob[]): Promise<void> {
  for (const l of layers) {
    if (await sc.deps.store.has(l.digest)) continue;
    if (!sc.deps.remoteCache?.canFetch(l)) throw new TsbuildError('BLOB_UNKNOWN', `layer ${l.digest} is missing from the store`, { hint: 'rebuild with --no-cache' });
    await sc.deps.remoteCache.fetchLayer(l);
  }
}

/**
 * ensureLayers makes every layer available as an extracted snapshot (for overlay lowers or a
 * layer-dir view). A layer that fails to extract because its blob does not match its digest
 * (damaged with the same size, so the cache lookup could not tell) is removed and reported,
 * and the build fails with STORE_HEALED: run again, it makes or fetches the layer afresh.
 */
export async function ensureLayers(sc: StepContext, layers: readonly LayerBlob[]): Promise<void> {
  for (const l of layers) {
    if (await sc.deps.snapshotter.has(l.diffID)) continue;
    await ensureBlobs(sc, [l]);
    try {
      await sc.deps.snapshotter.ensure(l.diffID, () => sc.deps.store.open(l.digest));
    } catch (e) {
      if ((await sc.deps.store.check(l.digest)) !== 'damaged') throw e;
      await sc.deps.store.delete(l.digest);
      reportDamage(sc, { what: `blob ${l.digest}`, problem: 'content does not match its digest', action: 'removed', fixed: true });
      throw new TsbuildError('STORE_HEALED', `layer ${l.digest} was damaged and has been removed`, { cause: e, hint: 'run the build again: it makes or fetches the layer afresh' });
    }
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
