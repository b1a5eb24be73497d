import type { Digest } from '../core/digest.ts';
import { canonicalJson } from '../oci/canonicalJson.ts';
import { MediaType } from '../oci/mediaTypes.ts';
import type { Descriptor, Manifest } from '../oci/types.ts';
import type { CacheRecord } from '../cache/types.ts';
import { ensureCompressed, type CompressedLayerCache } from '../registry/compressedCache.ts';
import type { ContentStore } from '../store/types.ts';
import { Readable } from 'node:stream';
import { CACHE_CONFIG_MEDIA_TYPE, DIFFID_ANNOTATION, type CacheBackend, type CacheConfig } from './types.ts';

/**
 * ExportMode is BuildKit's: min (the default) exports the records of the steps
 * whose layers are in the resulting image (the target stage and the stages it is
 * built FROM), max the records of every step of the build (stages only copied
 * from included).
 */
export type ExportMode = 'min' | 'max';

/**
 * exportCache writes the build's cache records and their layers (gzip, compressed
 * once per store) to backend as one manifest. Blobs already there are not re-sent.
 * Returns the manifest digest and how many records and layers it holds.
 */
export async function exportCache(
  backend: CacheBackend,
  store: ContentStore,
  compressed: CompressedLayerCache,
  used: readonly { stage: number; record: CacheRecord }[],
  opts: { mode: ExportMode; imageStages: readonly number[] },
): Promise<{ digest: Digest; records: number; layers: number }> {
  const records = new Map<string, CacheRecord>();
  for (const u of used) if (opts.mode === 'max' || opts.imageStages.includes(u.stage)) records.set(u.record.key, u.record);
  const layers = new Map<string, Descriptor>();
  for (const r of records.values()) {
    if (!r.layer || layers.has(r.layer.diffID)) continue;
    const c = await ensureCompressed(store, compressed, { mediaType: MediaType.OciLayer, digest: r.layer.digest, size: r.layer.size }, false);
    const desc: Descriptor = { mediaType: c.mediaType, digest: c.digest, size: c.size, annotations: { [DIFFID_ANNOTATION]: r.layer.diffID } };
    await backend.putBlob(desc, () => store.open(c.digest));
    layers.set(r.layer.diffID, desc);
  }
  const config: CacheConfig = { version: 1, records: [...records.values()].sort((a, b) => (a.key < b.key ? -1 : 1)).map(stripInputs) };
  const configBytes = Buffer.from(canonicalJson(config));
  const cfg = await store.putBytes(configBytes);
  const cfgDesc: Descriptor = { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: cfg.digest, size: cfg.size };
  await backend.putBlob(cfgDesc, () => Readable.from([configBytes]));
  const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: cfgDesc, layers: [...layers.values()] };
  const digest = await backend.putManifest(Buffer.from(canonicalJson(manifest)), MediaType.OciManifest);
  return { digest, records: records.size, layers: layers.size };
}

function stripInputs(r: CacheRecord): CacheRecord {
  const { inputs: _inputs, ...rest } = r;
  return rest;
}
