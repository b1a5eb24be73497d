import { dirname, join } from 'node:path';
import { TsbuildError } from '../core/errors.ts';
import { parseImageConfig, parseJsonBytes } from '../oci/parseJson.ts';
import type { Descriptor, ImageConfig, Manifest, Platform } from '../oci/types.ts';
import type { ContentStore } from '../store/types.ts';
import { BlobSources } from './blobSources.ts';
import { UNTRUSTED_HINT, type RegistryClient } from './client.ts';
import { DEFAULT_PLATFORM } from './platform.ts';
import { refString, type RegistryRef } from './reference.ts';

/** PullOptions tune pullImage. */
export interface PullOptions {
  platform?: Platform;
  /** The store's cache dir (ROOT/cache); default: beside the layout dir. Blob sources are recorded under it. */
  cacheDir?: string;
}

/** PullResult is the pulled image: its manifest descriptor (as the registry serves it), manifest and config. */
export interface PullResult {
  manifestDesc: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
  /** How many blobs were downloaded (the others were already in the store). */
  fetched: number;
}

/** defaultCacheDir is ROOT/cache for a store whose layout dir is ROOT/oci. */
export function defaultCacheDir(store: ContentStore): string {
  return join(dirname(store.layoutDir), 'cache');
}

/**
 * pullImage downloads ref's image for the platform into the store: only blobs the
 * store lacks, in parallel (bounded by client.limit), each verified; then the manifest
 * bytes, unchanged, so its digest is the registry's. Layers stay as served (gzip or
 * not). It does not tag: the caller does, with the returned manifestDesc.
 */
export async function pullImage(client: RegistryClient, store: ContentStore, ref: RegistryRef, opts: PullOptions = {}): Promise<PullResult> {
  const fetchedManifest = await client.getImageManifest(ref, opts.platform ?? DEFAULT_PLATFORM);
  const manifest = fetchedManifest.manifest as Manifest;
  if (!manifest.config?.digest || !Array.isArray(manifest.layers)) {
    throw new TsbuildError('REGISTRY', `${refString(ref)}: manifest ${fetchedManifest.descriptor.digest} is not an image manifest (${fetchedManifest.descriptor.mediaType})`);
  }
  const blobs = new Map<string, Descriptor>();
  for (const d of [manifest.config, ...manifest.layers]) blobs.set(d.digest, d);
  let fetched = 0;
  await Promise.all(
    [...blobs.values()].map((d) =>
      client.limit(async () => {
        if (await store.has(d.digest)) return;
        await client.fetchBlob(ref, d, store);
        fetched++;
      }),
    ),
  );
  const put = await store.putBytes(fetchedManifest.bytes);
  if (put.digest !== fetchedManifest.descriptor.digest) throw new TsbuildError('INTERNAL', `pull ${refString(ref)}: stored manifest as ${put.digest}`);
  // Its diff_ids name snapshot directories when the image is used: parsed like every digest from outside.
  const cfgSource = { what: `${refString(ref)}: config ${manifest.config.digest}`, code: 'REGISTRY' as const, hint: UNTRUSTED_HINT };
  const config = parseImageConfig(parseJsonBytes(await store.readBytes(manifest.config.digest), cfgSource), cfgSource);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new TsbuildError('REGISTRY', `${refString(ref)}: config lists ${config.rootfs.diff_ids.length} diff_ids for ${manifest.layers.length} layers`, { hint: UNTRUSTED_HINT });
  }
  const sources = new BlobSources(join(opts.cacheDir ?? defaultCacheDir(store), 'blobsources'));
  // One small file per blob: written side by side, not one after the other (~4 ms each).
  await Promise.all([...blobs.values()].map((d) => sources.add(ref.registry, ref.repository, d.digest)));
  const { mediaType, digest, size } = fetchedManifest.descriptor;
  return { manifestDesc: { mediaType, digest, size }, manifest, config, fetched };
}
