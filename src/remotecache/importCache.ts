import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { parseDiffID, sha256Of, type Digest } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import type { Descriptor } from '../oci/types.ts';
import type { CacheRecord } from '../cache/types.ts';
import type { CompressedLayerCache } from '../registry/compressedCache.ts';
import type { LayerBlob } from '../snapshot/types.ts';
import type { RemoteCache } from '../solver/types.ts';
import type { ContentStore } from '../store/types.ts';
import { parseCacheConfig } from './parseConfig.ts';
import { DIFFID_ANNOTATION, MAX_CACHE_CONFIG_BYTES, cacheHint, type CacheBackend } from './types.ts';

/** ImportedCache is the RemoteCache of a build, with what was found for the messages. */
export interface ImportedCache extends RemoteCache {
  /** How many records were read (a key in several caches counts once). */
  size: number;
  /** The `where` of each backend that had a cache. */
  found: string[];
  /** The `where` of each backend that had none yet (a first CI run): not an error. */
  missing: string[];
}

/**
 * importCache reads the cache manifests of backends (--cache-from, in order of
 * preference: the first cache that has a key wins) into a RemoteCache. Only the
 * small config blobs are read now; a layer is downloaded when the build needs it,
 * gunzipped into the store (so its digest is its DiffID, as every local layer)
 * with both digests verified. A backend with no cache is listed in `missing`.
 */
export async function importCache(backends: readonly CacheBackend[], store: ContentStore, compressed: CompressedLayerCache): Promise<ImportedCache> {
  const records = new Map<Digest, CacheRecord>();
  const sources = new Map<string, { backend: CacheBackend; desc: Descriptor }>();
  const found: string[] = [];
  const missing: string[] = [];
  for (const b of backends) {
    const m = await b.readManifest();
    if (!m) {
      missing.push(b.where);
      continue;
    }
    found.push(b.where);
    const hint = cacheHint(b.where);
    if (m.config.size > MAX_CACHE_CONFIG_BYTES) throw new TsbuildError('BAD_CACHE', `cache ${b.where}: config of ${m.config.size} bytes, more than ${MAX_CACHE_CONFIG_BYTES}`, { hint });
    const bytes = await b.readBlob(m.config);
    if (sha256Of(bytes) !== m.config.digest) throw new TsbuildError('DIGEST_MISMATCH', `cache ${b.where}: config blob does not match its digest ${m.config.digest}`, { hint });
    // Records and annotations are parsed (every digest) before the build looks anything up.
    const cfg = parseCacheConfig(bytes, b.where);
    const diffIDs = m.layers.map((l, i) => {
      const raw = l.annotations?.[DIFFID_ANNOTATION];
      return raw === undefined ? undefined : parseDiffID(raw, { what: `cache ${b.where}: manifest: layers[${i}].annotations["${DIFFID_ANNOTATION}"]`, hint });
    });
    for (const r of cfg.records) if (!records.has(r.key)) records.set(r.key, r);
    for (const [i, l] of m.layers.entries()) {
      const diffID = diffIDs[i];
      if (diffID && !sources.has(diffID)) sources.set(diffID, { backend: b, desc: l });
    }
  }
  const inflight = new Map<string, Promise<void>>();
  const fetchOnce = async (layer: LayerBlob): Promise<void> => {
    if (await store.has(layer.digest)) return;
    const src = sources.get(layer.diffID)!;
    const w = await store.writer();
    const h = createHash('sha256');
    try {
      const tap = new Transform({ transform(chunk: Buffer, _e, cb) { h.update(chunk); cb(null, chunk); } });
      await pipeline(await src.backend.openBlob(src.desc), tap, createGunzip(), w.stream);
      if (`sha256:${h.digest('hex')}` !== src.desc.digest) throw new TsbuildError('DIGEST_MISMATCH', `cache ${src.backend.where}: layer blob does not match ${src.desc.digest}`);
      await w.commit({ digest: layer.digest });
      await compressed.set(layer.diffID, { digest: src.desc.digest, size: src.desc.size, mediaType: src.desc.mediaType });
    } catch (e) {
      await w.abort();
      throw e;
    }
  };
  return {
    size: records.size,
    found,
    missing,
    get: (key) => records.get(key),
    canFetch: (layer) => sources.has(layer.diffID),
    fetchLayer(layer) {
      let p = inflight.get(layer.diffID);
      if (!p) {
        p = fetchOnce(layer).finally(() => inflight.delete(layer.diffID));
        inflight.set(layer.diffID, p);
      }
      return p;
    },
  };
}
