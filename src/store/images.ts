import { hexOf, sha256Of, type Digest } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import { canonicalJson } from '../oci/canonicalJson.ts';
import { MediaType, isIndexMediaType } from '../oci/mediaTypes.ts';
import type { Descriptor, ImageConfig, Index, Manifest, Platform } from '../oci/types.ts';
import { normalizeTag } from './refs.ts';
import type { ContentStore, TagStore } from './types.ts';

/** ImageInput is what writeImage needs: the config and one descriptor per layer, base first. */
export interface ImageInput {
  config: ImageConfig;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** ImageRecord is a resolved image: its id (the config digest, as Docker defines it) and parsed blobs. */
export interface ImageRecord {
  id: Digest;
  manifestDesc: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
}

/** ImageSource is where readImage looks: blobs and index.json's entries (a LocalStore fits). */
export interface ImageSource {
  content: ContentStore;
  tags: TagStore;
}

/**
 * writeImage stores config and an OCI manifest (both canonical JSON, so equal
 * images give equal digests) and returns the manifest's descriptor. It does
 * *not* tag the image. The layer blobs must already be in the store.
 */
export async function writeImage(store: ContentStore, img: ImageInput): Promise<Descriptor> {
  if (img.config.rootfs.diff_ids.length !== img.layers.length) {
    throw new TsbuildError('INTERNAL', `write image: ${img.layers.length} layers but ${img.config.rootfs.diff_ids.length} diff_ids`);
  }
  // The config's digest is known before it is written: config and manifest are written (and
  // fsynced) at the same time. Nothing points at either until the caller tags the manifest.
  const cfgBytes = Buffer.from(canonicalJson(img.config));
  const cfg = { digest: sha256Of(cfgBytes), size: cfgBytes.length };
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: cfg.digest, size: cfg.size },
    layers: img.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size, ...(l.annotations ? { annotations: l.annotations } : {}) })),
    ...(img.annotations ? { annotations: img.annotations } : {}),
  };
  const [, m] = await Promise.all([store.putBytes(cfgBytes), store.putBytes(canonicalJson(manifest))]);
  return { mediaType: MediaType.OciManifest, digest: m.digest, size: m.size };
}

/**
 * readImage resolves a tag (`app`, `app:1`), a full image id (`sha256:<config
 * digest>` or its 64 hex digits) or a unique id prefix (`3f2a`, `sha256:3f2a`),
 * as Docker does: a reference that names a tag wins over an id prefix. Ids
 * find untagged images too (index.json entries without a name).
 * Throws IMAGE_NOT_FOUND, or BAD_REFERENCE for an ambiguous prefix.
 */
export async function readImage(src: ImageSource, nameOrId: string): Promise<ImageRecord> {
  const idLike = /^(?:sha256:)?([0-9a-f]{1,64})$/.exec(nameOrId);
  const fullHex = /^(?:sha256:[0-9a-f]+|[0-9a-f]{64})$/.test(nameOrId);
  if (!fullHex) {
    let desc: Descriptor | undefined;
    try {
      desc = await src.tags.get(nameOrId);
    } catch (e) {
      if (!idLike) throw e;
    }
    if (desc) return loadImage(src.content, desc);
  }
  if (idLike) {
    const found = await findById(src, idLike[1]!);
    if (found) return found;
  }
  throw new TsbuildError('IMAGE_NOT_FOUND', `image "${nameOrId}" not found`, { hint: "tag it, or use 'tsbuild images' to list what the store holds" });
}

/** loadImage reads the manifest a descriptor points at (choosing linux/amd64 from an index) and its config. */
export async function loadImage(content: ContentStore, desc: Descriptor, want: Platform = { os: 'linux', architecture: 'amd64' }): Promise<ImageRecord> {
  let manifestDesc = desc;
  if (isIndexMediaType(desc.mediaType)) {
    const idx = await content.readJson<Index>(desc.digest);
    const pick = idx.manifests.find((m) => m.platform?.os === want.os && m.platform.architecture === want.architecture);
    if (!pick) throw new TsbuildError('IMAGE_NOT_FOUND', `image index ${desc.digest} has no ${want.os}/${want.architecture} manifest`);
    manifestDesc = pick;
  }
  const manifest = await content.readJson<Manifest>(manifestDesc.digest);
  if (!manifest.config?.digest) throw new TsbuildError('STORE_CORRUPT', `manifest ${manifestDesc.digest} has no config`);
  const config = await content.readJson<ImageConfig>(manifest.config.digest);
  return { id: manifest.config.digest, manifestDesc, manifest, config };
}

async function findById(src: ImageSource, hexPrefix: string): Promise<ImageRecord | undefined> {
  const seen = new Set<string>();
  const matches = new Map<Digest, ImageRecord>();
  for (const { descriptor } of await src.tags.entries()) {
    if (seen.has(descriptor.digest)) continue;
    seen.add(descriptor.digest);
    const rec = await loadImage(src.content, descriptor).catch(() => undefined);
    if (rec && hexOf(rec.id).startsWith(hexPrefix)) matches.set(rec.id, rec);
  }
  if (matches.size > 1) {
    throw new TsbuildError('BAD_REFERENCE', `image id prefix "${hexPrefix}" is ambiguous: it matches ${[...matches.keys()].map((d) => hexOf(d).slice(0, 12)).join(', ')}`);
  }
  return matches.values().next().value;
}

/** tagImage is `tags.set` with the name normalised first, returning the stored name. */
export async function tagImage(tags: TagStore, name: string, manifestDesc: Descriptor): Promise<string> {
  const n = normalizeTag(name);
  await tags.set(n, manifestDesc);
  return n;
}
