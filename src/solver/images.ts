import { ignoreDamage, type OnDamage } from '../core/damage.ts';
import { sha256Of, type Digest } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import { canonicalJson } from '../oci/canonicalJson.ts';
import { ociLayerType } from '../oci/mediaTypes.ts';
import { readImage, tagImage, writeImage, type ImageRecord } from '../store/images.ts';
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
 * names a registry and is not in the store is pulled first (only missing blobs). So is
 * one whose manifest, config or a layer blob is missing or damaged (a blob of another
 * size than its descriptor's is removed and reported to onDamage); such an image that
 * cannot be pulled fails with BLOB_UNKNOWN naming the blob.
 */
export function storeImages(store: LocalStore, pull?: Puller, onDamage: OnDamage = ignoreDamage): ImageSource {
  const inflight = new Map<string, Promise<void>>();
  const pullOnce = (ref: string) => {
    let p = inflight.get(ref);
    if (!p) inflight.set(ref, (p = pull!(ref)));
    return p;
  };
  const read = async (ref: string): Promise<ImageRecord> => {
    const rec = await readImage(store, ref);
    await checkLayerBlobs(store, rec, onDamage);
    return rec;
  };
  return {
    async resolve(ref: string): Promise<ResolvedImage> {
      const rec = await read(ref).catch(async (e: unknown) => {
        const missing = e instanceof TsbuildError && e.code === 'BLOB_UNKNOWN';
        if (!(e instanceof TsbuildError && (e.code === 'IMAGE_NOT_FOUND' || missing))) throw e;
        if (pull && isRegistryRef(ref)) {
          await pullOnce(ref);
          return read(ref);
        }
        if (missing) throw new TsbuildError('BLOB_UNKNOWN', `base image "${ref}": ${e.message}`, { cause: e, hint: "pull, load or import the image again ('tsbuild fsck' lists what else is damaged)" });
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
 * checkLayerBlobs throws BLOB_UNKNOWN when a layer blob of rec is missing or has another size
 * than its descriptor says (cut by a crash: removed first, and reported). One stat a layer.
 */
async function checkLayerBlobs(store: LocalStore, rec: ImageRecord, onDamage: OnDamage): Promise<void> {
  for (const l of rec.manifest.layers) {
    const size = await store.content.size(l.digest).catch((e: unknown) => {
      if (e instanceof TsbuildError && e.code === 'BLOB_UNKNOWN') return undefined;
      throw e;
    });
    if (size === l.size) continue;
    if (size !== undefined) {
      await store.content.delete(l.digest);
      onDamage({ what: `blob ${l.digest}`, problem: `${size} bytes, its image says ${l.size}`, action: 'removed', fixed: true });
    }
    throw new TsbuildError('BLOB_UNKNOWN', `layer ${l.digest} is missing from the store`);
  }
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
