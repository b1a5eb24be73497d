import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Digest } from '../core/digest.ts';
import type { Descriptor } from '../oci/types.ts';
import type { ContentStore } from '../store/types.ts';
import { BlobSources } from './blobSources.ts';
import type { RegistryClient } from './client.ts';
import { CompressedLayerCache, compressToStore, findCompressed, isUncompressedLayer } from './compressedCache.ts';
import type { LayerCompression } from './compression.ts';
import { compressLayer, planCompression, readStoredManifest, rewriteManifest, type CompressionPlan } from './compressionManifest.ts';
import { defaultCacheDir } from './pull.ts';
import type { RegistryRef } from './reference.ts';
import { uploadStream, type PushBlobResult } from './upload.ts';

/** PushOptions tune pushImage. */
export interface PushOptions {
  /** The store's cache dir (ROOT/cache); compressed-layer records and blob sources live under it. */
  cacheDir?: string;
  /** How plain-tar layers are compressed (default gzip); layers already compressed are pushed as they are. */
  compression?: LayerCompression;
  /**
   * Upload a layer while it is being compressed (default true; never with the
   * client's chunkSize): the cold push then takes about as long as the slower of
   * the two instead of their sum. The registry cannot be asked first whether it has
   * the blob (its digest is not known yet); a failed streamed upload is redone from
   * the store by the ordinary, retried path.
   */
  streaming?: boolean;
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
 * the registry when known to be there; the exception is a plain layer never
 * compressed in this store, streamed while it is compressed, so with no HEAD (its
 * digest is known only at the end: docs/REGISTRY.md, "Cold push").
 * An image whose layers need no compression is pushed with its manifest bytes unchanged.
 */
export async function pushImage(client: RegistryClient, store: ContentStore, manifestDesc: Descriptor, ref: RegistryRef, opts: PushOptions = {}): Promise<PushResult> {
  const cacheDir = opts.cacheDir ?? defaultCacheDir(store);
  const compressed = new CompressedLayerCache(join(cacheDir, 'compressed'));
  const sources = new BlobSources(join(cacheDir, 'blobsources'));
  const m = await readStoredManifest(store, manifestDesc);
  const plan = planCompression(m, opts.compression ?? 'gzip');

  const pushOne = async (d: Descriptor, streamed = false): Promise<PushBlobResult> => {
    const result = streamed ? 'uploaded' : await client.pushBlob(ref, d, () => store.open(d.digest), { mountFrom: await sources.repos(ref.registry, d.digest) });
    await sources.add(ref.registry, ref.repository, d.digest);
    return result;
  };
  const streaming = (opts.streaming ?? true) && !client.opts.chunkSize;
  const layerResults = await Promise.all(
    m.manifest.layers.map((l) =>
      client.limit(async () => {
        if (streaming && isUncompressedLayer(l.mediaType) && !(await findCompressed(store, compressed, l, plan.docker, plan.kind))) {
          return compressWhileUploading(client, store, compressed, l, plan, ref, pushOne);
        }
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

/**
 * compressWhileUploading compresses a plain layer into the store and, from the same
 * stream, uploads it (uploadStream). If the upload fails, the finished blob is
 * pushed again through pushOne (HEAD, mount or upload, with retries).
 */
async function compressWhileUploading(
  client: RegistryClient, store: ContentStore, cache: CompressedLayerCache, layer: Descriptor, plan: CompressionPlan, ref: RegistryRef,
  pushOne: (d: Descriptor, streamed?: boolean) => Promise<PushBlobResult>,
): Promise<{ desc: Descriptor; result: PushBlobResult }> {
  const body = new PassThrough({ highWaterMark: 1 << 20 });
  body.on('error', () => undefined); // a failed compression destroys it with its error: reported by compressToStore
  let settle!: { resolve: (d: Digest) => void; reject: (e: unknown) => void };
  const digest = new Promise<Digest>((resolve, reject) => { settle = { resolve, reject }; });
  digest.catch(() => undefined); // uploadStream may have given up before it awaits the digest
  const uploaded = uploadStream(client, ref, body, digest).then(() => true, () => { body.destroy(); return false; });
  let desc: Descriptor;
  try {
    desc = { ...layer, ...(await compressToStore(store, cache, layer, plan.docker, plan.kind, body)) };
    settle.resolve(desc.digest);
  } catch (e) {
    settle.reject(e);
    await uploaded;
    throw e;
  }
  return { desc, result: await pushOne(desc, await uploaded) };
}
