import { join } from 'node:path';
import type { Digest } from '../core/digest.ts';
import type { Descriptor } from '../oci/types.ts';
import type { ContentStore } from '../store/types.ts';
import { BlobSources } from './blobSources.ts';
import type { RegistryClient } from './client.ts';
import { CompressedLayerCache } from './compressedCache.ts';
import type { LayerCompression } from './compression.ts';
import { compressLayer, planCompression, readStoredManifest, rewriteManifest } from './compressionManifest.ts';
import { defaultCacheDir } from './pull.ts';
import type { RegistryRef } from './reference.ts';
import type { PushBlobResult } from './upload.ts';

/** PushOptions tune pushImage. */
export interface PushOptions {
  /** The store's cache dir (ROOT/cache); compressed-layer records and blob sources live under it. */
  cacheDir?: string;
  /** How plain-tar layers are compressed (default gzip); layers already compressed are pushed as they are. */
  compression?: LayerCompression;
}

/** PushResult is the pushed manifest and what happened to each blob (config last). */
export interface PushResult {
  manifestDesc: Descriptor;
  blobs: { digest: Digest; result: PushBlobResult }[];
}

/**
 * pushImage pushes a stored image to ref. Uncompressed layers are compressed, gzip
 * or zstd (streamed, deterministic, once per store and kind: see
 * CompressedLayerCache), and the pushed manifest names the compressed blobs; the
 * config, and so the diff_ids and image id, are unchanged. A zstd layer makes the
 * manifest an OCI one (Docker's schema 2 has no zstd type). Blobs go in parallel
 * (client.limit), each HEAD-checked first and mounted from another repository of
 * the registry when known to be there.
 * An image whose layers need no compression is pushed with its manifest bytes unchanged.
 */
export async function pushImage(client: RegistryClient, store: ContentStore, manifestDesc: Descriptor, ref: RegistryRef, opts: PushOptions = {}): Promise<PushResult> {
  const cacheDir = opts.cacheDir ?? defaultCacheDir(store);
  const compressed = new CompressedLayerCache(join(cacheDir, 'compressed'));
  const sources = new BlobSources(join(cacheDir, 'blobsources'));
  const m = await readStoredManifest(store, manifestDesc);
  const plan = planCompression(m, opts.compression ?? 'gzip');

  const pushOne = async (d: Descriptor): Promise<PushBlobResult> => {
    const from = await sources.repos(ref.registry, d.digest);
    const result = await client.pushBlob(ref, d, () => store.open(d.digest), { mountFrom: from });
    await sources.add(ref.registry, ref.repository, d.digest);
    return result;
  };
  const layerResults = await Promise.all(
    m.manifest.layers.map((l) =>
      client.limit(async () => {
        const out = await compressLayer(store, compressed, l, plan);
        return { desc: out, result: await pushOne(out) };
      }),
    ),
  );
  const configResult = await client.limit(() => pushOne(m.manifest.config));
  const { bytes, desc } = await rewriteManifest(store, m, layerResults.map((r) => r.desc), plan);
  const pushed = await client.pushManifest(ref, bytes, desc.mediaType);
  return {
    manifestDesc: pushed,
    blobs: [...layerResults.map((r) => ({ digest: r.desc.digest, result: r.result })), { digest: m.manifest.config.digest, result: configResult }],
  };
}
