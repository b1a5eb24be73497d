import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Digest } from '../core/digest.ts';
import type { Descriptor } from '../oci/types.ts';
import type { ContentStore } from '../store/types.ts';
import { BlobSources } from './blobSources.ts';
import type { RegistryClient } from './client.ts';
import { CompressedLayerCache, compressToStore, findCompressed, isUncompressedLayer } from './compressedCache.ts';
import { compressedMediaType, type LayerCompression } from './compression.ts';
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
  // A streamed layer's blob may still be on its way to disk (fsync) while its upload
  // closes and the manifest goes: the push waits for it (and the config) at the end.
  const pending: Promise<unknown>[] = [];
  try {
    // The config goes beside the layers, not after them: it is small, and no registry orders blobs.
    const configPushed = client.limit(() => pushOne(m.manifest.config));
    // Awaited below; until then (the layers may fail first) its failure must not count as unhandled.
    configPushed.catch(() => undefined);
    pending.push(configPushed);
    const layerResults = await Promise.all(
      m.manifest.layers.map((l) =>
        client.limit(async () => {
          if (streaming && isUncompressedLayer(l.mediaType) && !(await findCompressed(store, compressed, l, plan.docker, plan.kind))) {
            return compressWhileUploading(client, store, compressed, l, plan, ref, pushOne, pending);
          }
          const out = await compressLayer(store, compressed, l, plan);
          return { desc: out, result: await pushOne(out) };
        }),
      ),
    );
    const configResult = await configPushed;
    const { bytes, desc } = await rewriteManifest(store, m, layerResults.map((r) => r.desc), plan);
    const pushed = await client.pushManifest(ref, bytes, desc.mediaType);
    await Promise.all(pending);
    return {
      manifestDesc: pushed,
      blobs: [...layerResults.map((r) => ({ digest: r.desc.digest, result: r.result })), { digest: m.manifest.config.digest, result: configResult }],
    };
  } finally {
    // Whatever failed, nothing is left running: each store write ends in commit or abort.
    await Promise.allSettled(pending);
  }
}

/**
 * compressWhileUploading compresses a plain layer into the store and, from the same
 * stream, uploads it (uploadStream), closing the upload as soon as the blob's digest
 * is known, while the store's copy is still being made durable; that store write
 * goes into stored. If the upload fails, the blob is pushed again from the store,
 * once it is there, through pushOne (HEAD, mount or upload, with retries).
 */
async function compressWhileUploading(
  client: RegistryClient, store: ContentStore, cache: CompressedLayerCache, layer: Descriptor, plan: CompressionPlan, ref: RegistryRef,
  pushOne: (d: Descriptor, streamed?: boolean) => Promise<PushBlobResult>, stored: Promise<unknown>[],
): Promise<{ desc: Descriptor; result: PushBlobResult }> {
  const body = new PassThrough({ highWaterMark: 1 << 20 });
  body.on('error', () => undefined); // a failed compression destroys it with its error: reported by compressToStore
  let settle!: { resolve: (d: { digest: Digest; size: number }) => void; reject: (e: unknown) => void };
  const sealed = new Promise<{ digest: Digest; size: number }>((resolve, reject) => { settle = { resolve, reject }; });
  const digest = sealed.then((b) => b.digest);
  digest.catch(() => undefined); // uploadStream may have given up before it awaits the digest
  const uploaded = uploadStream(client, ref, body, digest).then(() => true, () => { body.destroy(); return false; });
  const record = compressToStore(store, cache, layer, plan.docker, plan.kind, { to: body, sealed: settle.resolve });
  record.catch(settle.reject);
  stored.push(record);
  let blob: { digest: Digest; size: number };
  try {
    blob = await sealed;
  } catch (e) {
    await uploaded;
    throw e;
  }
  const desc: Descriptor = { ...layer, ...blob, mediaType: compressedMediaType(plan.kind, plan.docker) };
  if (await uploaded) return { desc, result: await pushOne(desc, true) };
  await record;
  return { desc, result: await pushOne(desc) };
}
