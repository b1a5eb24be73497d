import { sha256Of, type Digest } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import { canonicalJson } from '../oci/canonicalJson.ts';
import { ociLayerType } from '../oci/mediaTypes.ts';
import { readImage, tagImage, writeImage } from '../store/images.ts';
import type { LocalStore } from '../store/types.ts';
import type { LayerBlob } from '../snapshot/types.ts';
import type { BuildResult, ImageSource, ResolvedImage } from './types.ts';
import type { Descriptor, ImageConfig } from '../oci/types.ts';

/** Puller fetches an image missing from the store (a registry pull) and tags it under ref. */
export type Puller = (ref: string) => Promise<void>;

/** isRegistryRef tells whether a reference names a registry host (`localhost:5000/x`, `ghcr.io/x`), so a pull can find it. */
export function isRegistryRef(ref: string): boolean {
  const first = ref.split('/')[0]!;
  return ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
}

/**
 * storeImages resolves FROM references against the local store; a reference that
 * names a registry and is not in the store is pulled first (only missing blobs).
 */
export function storeImages(store: LocalStore, pull?: Puller): ImageSource {
  const inflight = new Map<string, Promise<void>>();
  const read = (ref: string) => readImage(store, ref);
  return {
    async resolve(ref: string): Promise<ResolvedImage> {
      const rec = await read(ref).catch(async (e: unknown) => {
        if (!(e instanceof TsbuildError && e.code === 'IMAGE_NOT_FOUND')) throw e;
        if (pull && isRegistryRef(ref)) {
          let p = inflight.get(ref);
          if (!p) inflight.set(ref, (p = pull(ref)));
          await p;
          return read(ref);
        }
        throw new TsbuildError('IMAGE_NOT_FOUND', `base image "${ref}" not found in the store`, { hint: "make it with 'tsbuild import', 'tsbuild load' or 'tsbuild pull'" });
      });
      const diffIDs = rec.config.rootfs.diff_ids;
      if (diffIDs.length !== rec.manifest.layers.length) throw new TsbuildError('STORE_CORRUPT', `image ${ref}: ${rec.manifest.layers.length} layers but ${diffIDs.length} diff_ids`);
      const layers: LayerBlob[] = rec.manifest.layers.map((l, i) => ({ diffID: diffIDs[i]!, digest: l.digest, size: l.size, mediaType: l.mediaType }));
      return { manifestDigest: rec.manifestDesc.digest, configDigest: rec.id, config: rec.config, layers };
    },
  };
}

/**
 * finalizeImage writes the built image (config + manifest) and tags it. The
 * image's `created` is its newest history time, so a fully cached rebuild
 * produces the same bytes and the same image id; with SOURCE_DATE_EPOCH it is at most
 * that time (a base imported later than it must not make the image's date move).
 */
export async function finalizeImage(store: LocalStore, result: BuildResult, tags: readonly string[], sourceDateEpoch?: number): Promise<{ imageId: Digest; config: ImageConfig; manifestDesc: Descriptor }> {
  const config: ImageConfig = { ...result.config };
  const times = (config.history ?? []).map((h) => h.created).filter((c): c is string => c !== undefined).sort();
  const epoch = sourceDateEpoch === undefined ? undefined : new Date(sourceDateEpoch * 1000).toISOString();
  const newest = epoch !== undefined && times.at(-1) !== undefined && Date.parse(times.at(-1)!) > Date.parse(epoch) ? epoch : times.at(-1);
  if (newest !== undefined) config.created = newest;
  // writeImage writes an OCI manifest: a layer of a Docker-format base is listed by its OCI type (same blob).
  const layers = result.layers.map((l) => ({ mediaType: ociLayerType(l.mediaType), digest: l.digest, size: l.size }));
  const desc = await writeImage(store.content, { config, layers });
  for (const t of tags) await tagImage(store.tags, t, desc);
  return { imageId: sha256Of(canonicalJson(config)), config, manifestDesc: desc };
}
