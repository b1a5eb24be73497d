import { sha256Of, type Digest } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import { canonicalJson } from '../oci/canonicalJson.ts';
import { readImage, tagImage, writeImage } from '../store/images.ts';
import type { LocalStore } from '../store/types.ts';
import type { LayerBlob } from '../snapshot/types.ts';
import type { BuildResult, ImageSource, ResolvedImage } from './types.ts';
import type { ImageConfig } from '../oci/types.ts';

/** storeImages resolves FROM references against the local store. */
export function storeImages(store: LocalStore): ImageSource {
  return {
    async resolve(ref: string): Promise<ResolvedImage> {
      const rec = await readImage(store, ref).catch((e: unknown) => {
        if (e instanceof TsbuildError && e.code === 'IMAGE_NOT_FOUND') {
          throw new TsbuildError('IMAGE_NOT_FOUND', `base image "${ref}" not found in the store`, { hint: "make it with 'tsbuild import', 'tsbuild load' or 'tsbuild pull'" });
        }
        throw e;
      });
      const diffIDs = rec.config.rootfs.diff_ids;
      if (diffIDs.length !== rec.manifest.layers.length) throw new TsbuildError('STORE_CORRUPT', `image ${ref}: ${rec.manifest.layers.length} layers but ${diffIDs.length} diff_ids`);
      const layers: LayerBlob[] = rec.manifest.layers.map((l, i) => ({ diffID: diffIDs[i]!, digest: l.digest, size: l.size, mediaType: l.mediaType }));
      return { manifestDigest: rec.manifestDesc.digest, config: rec.config, layers };
    },
  };
}

/**
 * finalizeImage writes the built image (config + manifest) and tags it. The
 * image's `created` is its newest history time, so a fully cached rebuild
 * produces the same bytes and the same image id.
 */
export async function finalizeImage(store: LocalStore, result: BuildResult, tags: readonly string[]): Promise<{ imageId: Digest; config: ImageConfig }> {
  const config: ImageConfig = { ...result.config };
  const times = (config.history ?? []).map((h) => h.created).filter((c): c is string => c !== undefined).sort();
  const newest = times.at(-1);
  if (newest !== undefined) config.created = newest;
  const desc = await writeImage(store.content, { config, layers: result.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })) });
  for (const t of tags) await tagImage(store.tags, t, desc);
  return { imageId: sha256Of(canonicalJson(config)), config };
}
