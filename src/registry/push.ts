import { join } from 'node:path';
import { TsbuildError } from '../core/errors.ts';
import type { Digest } from '../core/digest.ts';
import { MediaType, isIndexMediaType } from '../oci/mediaTypes.ts';
import type { Descriptor, Index, Manifest } from '../oci/types.ts';
import type { ContentStore } from '../store/types.ts';
import { BlobSources } from './blobSources.ts';
import type { RegistryClient } from './client.ts';
import { CompressedLayerCache, ensureCompressed, isUncompressedLayer } from './compressedCache.ts';
import { DEFAULT_PLATFORM, choosePlatform } from './platform.ts';
import { defaultCacheDir } from './pull.ts';
import type { RegistryRef } from './reference.ts';
import type { PushBlobResult } from './upload.ts';

/** PushOptions tune pushImage. */
export interface PushOptions {
  /** The store's cache dir (ROOT/cache); compressed-layer records and blob sources live under it. */
  cacheDir?: string;
}

/** PushResult is the pushed manifest and what happened to each blob (config last). */
export interface PushResult {
  manifestDesc: Descriptor;
  blobs: { digest: Digest; result: PushBlobResult }[];
}

/**
 * pushImage pushes a stored image to ref. Uncompressed layers are gzip-compressed
 * (streamed, deterministic, once per store: see CompressedLayerCache) and the pushed
 * manifest names the gzip blobs; the config, and so the diff_ids and image id, are
 * unchanged. Blobs go in parallel (client.limit), each HEAD-checked first and mounted
 * from another repository of the registry when known to be there.
 * An image whose layers need no compression is pushed with its manifest bytes unchanged.
 */
export async function pushImage(client: RegistryClient, store: ContentStore, manifestDesc: Descriptor, ref: RegistryRef, opts: PushOptions = {}): Promise<PushResult> {
  const cacheDir = opts.cacheDir ?? defaultCacheDir(store);
  const compressed = new CompressedLayerCache(join(cacheDir, 'compressed'));
  const sources = new BlobSources(join(cacheDir, 'blobsources'));
  let desc = manifestDesc;
  if (isIndexMediaType(desc.mediaType)) desc = choosePlatform(await store.readJson<Index>(desc.digest), DEFAULT_PLATFORM, `image ${desc.digest}`);
  const original = await store.readBytes(desc.digest);
  const manifest = JSON.parse(original.toString('utf8')) as Manifest;
  if (!manifest.config?.digest) throw new TsbuildError('STORE_CORRUPT', `manifest ${desc.digest} has no config`);
  const docker = (manifest.mediaType ?? desc.mediaType) === MediaType.DockerManifest;

  const pushOne = async (d: Descriptor): Promise<PushBlobResult> => {
    const from = await sources.repos(ref.registry, d.digest);
    const result = await client.pushBlob(ref, d, () => store.open(d.digest), { mountFrom: from });
    await sources.add(ref.registry, ref.repository, d.digest);
    return result;
  };
  const layerResults = await Promise.all(
    manifest.layers.map((l) =>
      client.limit(async () => {
        const out: Descriptor = isUncompressedLayer(l.mediaType) ? { ...l, ...(await ensureCompressed(store, compressed, l, docker)) } : l;
        return { desc: out, result: await pushOne(out) };
      }),
    ),
  );
  const configResult = await client.limit(() => pushOne(manifest.config));

  const changed = layerResults.some((r, i) => r.desc.digest !== manifest.layers[i]!.digest);
  let bytes = original;
  let mediaType = manifest.mediaType ?? desc.mediaType;
  if (changed) {
    mediaType = docker ? MediaType.DockerManifest : MediaType.OciManifest;
    const out: Manifest = {
      schemaVersion: 2,
      mediaType,
      config: manifest.config,
      layers: layerResults.map((r) => r.desc),
      ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
    };
    bytes = Buffer.from(JSON.stringify(out));
    // Keep the pushed form too, so the image can be pushed again (or found by digest) without work.
    await store.putBytes(bytes);
  }
  const pushed = await client.pushManifest(ref, bytes, mediaType);
  return {
    manifestDesc: pushed,
    blobs: [...layerResults.map((r) => ({ digest: r.desc.digest, result: r.result })), { digest: manifest.config.digest, result: configResult }],
  };
}
