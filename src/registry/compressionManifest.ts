import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { TsbuildError } from '../core/errors.ts';
import { MediaType, isIndexMediaType, ociLayerType } from '../oci/mediaTypes.ts';
import type { Descriptor, Index, Manifest } from '../oci/types.ts';
import type { ContentStore } from '../store/types.ts';
import { CompressedLayerCache, ensureCompressed, isUncompressedLayer } from './compressedCache.ts';
import type { LayerCompression } from './compression.ts';
import { DEFAULT_PLATFORM, choosePlatform } from './platform.ts';

/** StoredManifest is an image manifest read from the store with its exact bytes and descriptor. */
export interface StoredManifest {
  desc: Descriptor;
  bytes: Buffer;
  manifest: Manifest;
}

/** readStoredManifest reads an image's manifest, following an index to its linux/amd64 entry. */
export async function readStoredManifest(store: ContentStore, manifestDesc: Descriptor): Promise<StoredManifest> {
  let desc = manifestDesc;
  if (isIndexMediaType(desc.mediaType)) desc = choosePlatform(await store.readJson<Index>(desc.digest), DEFAULT_PLATFORM, `image ${desc.digest}`);
  const bytes = await store.readBytes(desc.digest);
  const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
  if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw new TsbuildError('STORE_CORRUPT', `manifest ${desc.digest} has no config`);
  return { desc, bytes, manifest };
}

/**
 * CompressionPlan says how an image's plain layers are compressed and which
 * manifest schema the result uses: Docker's when the image had it, unless a zstd
 * layer is made (schema 2 has no zstd type), then OCI.
 */
export interface CompressionPlan {
  kind: LayerCompression;
  /** The source manifest is a Docker schema 2 one. */
  wasDocker: boolean;
  /** The result is a Docker schema 2 one. */
  docker: boolean;
}

/** planCompression decides the CompressionPlan of an image for kind. */
export function planCompression(m: StoredManifest, kind: LayerCompression): CompressionPlan {
  const wasDocker = (m.manifest.mediaType ?? m.desc.mediaType) === MediaType.DockerManifest;
  const compressing = m.manifest.layers.some((l) => isUncompressedLayer(l.mediaType));
  return { kind, wasDocker, docker: wasDocker && !(kind === 'zstd' && compressing) };
}

/** compressLayer returns the descriptor a layer has in the compressed image (compressing it once per store and kind). */
export async function compressLayer(store: ContentStore, cache: CompressedLayerCache, layer: Descriptor, plan: CompressionPlan): Promise<Descriptor> {
  if (!isUncompressedLayer(layer.mediaType)) return layer;
  return { ...layer, ...(await ensureCompressed(store, cache, layer, plan.docker, plan.kind)) };
}

/**
 * rewriteManifest gives the manifest that names layers (the compressed form of
 * m's layers, in order). When no layer changed, m's bytes are kept as they are,
 * so its digest is too. A changed manifest is stored, so the image can be pushed
 * or saved again (or found by digest) without work.
 */
export async function rewriteManifest(store: ContentStore, m: StoredManifest, layers: readonly Descriptor[], plan: CompressionPlan): Promise<{ bytes: Buffer; desc: Descriptor }> {
  const changed = layers.some((l, i) => l.digest !== m.manifest.layers[i]!.digest);
  if (!changed) return { bytes: m.bytes, desc: { ...m.desc, mediaType: m.manifest.mediaType ?? m.desc.mediaType } };
  const toOci = plan.wasDocker && !plan.docker;
  const mediaType = plan.docker ? MediaType.DockerManifest : MediaType.OciManifest;
  const out: Manifest = {
    schemaVersion: 2,
    mediaType,
    config: toOci ? { ...m.manifest.config, mediaType: MediaType.OciConfig } : m.manifest.config,
    layers: toOci ? layers.map((l) => ({ ...l, mediaType: ociLayerType(l.mediaType) })) : [...layers],
    ...(m.manifest.annotations ? { annotations: m.manifest.annotations } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(out));
  const { digest, size } = await store.putBytes(bytes);
  return { bytes, desc: { mediaType, digest, size } };
}

/** CompressImageOptions tune compressImage. */
export interface CompressImageOptions {
  /** The store's cache dir (ROOT/cache); compressed-layer records live under it. */
  cacheDir: string;
  compression: LayerCompression;
  /** Layers compressed at once (default: the number of CPUs). */
  concurrency?: number;
}

/**
 * compressImage makes (or finds) the compressed form of a stored image: same
 * config, plain layers compressed, the manifest stored. It returns that manifest's
 * descriptor, which is manifestDesc's own manifest when nothing needed compressing.
 */
export async function compressImage(store: ContentStore, manifestDesc: Descriptor, opts: CompressImageOptions): Promise<Descriptor> {
  const m = await readStoredManifest(store, manifestDesc);
  const plan = planCompression(m, opts.compression);
  const cache = new CompressedLayerCache(join(opts.cacheDir, 'compressed'));
  const limit = pLimit(opts.concurrency ?? availableParallelism());
  const layers = await Promise.all(m.manifest.layers.map((l) => limit(() => compressLayer(store, cache, l, plan))));
  return (await rewriteManifest(store, m, layers, plan)).desc;
}
