import type { Readable } from 'node:stream';
import type { Digest } from '../core/digest.ts';
import type { Descriptor, Manifest } from '../oci/types.ts';
import type { CacheRecord } from '../cache/types.ts';

/** CACHE_CONFIG_MEDIA_TYPE marks the config blob of a tsbuild cache manifest. */
export const CACHE_CONFIG_MEDIA_TYPE = 'application/vnd.tsbuild.cache.config.v1+json';

/** DIFFID_ANNOTATION names, on each cache layer descriptor, the DiffID of the (compressed) blob. */
export const DIFFID_ANNOTATION = 'dev.tsbuild.cache.diffid';

/** MAX_CACHE_CONFIG_BYTES bounds a cache's config (its records, ~350 bytes each: some 190,000 steps). */
export const MAX_CACHE_CONFIG_BYTES = 64 << 20;

/** cacheHint goes with a cache that cannot be used as it is. */
export function cacheHint(where: string): string {
  return `the cache at ${where} is damaged or was not written by tsbuild; build without this --cache-from, or export it again`;
}

/** CacheConfig is what a cache manifest's config blob holds: the records, keyed like the local cache. */
export interface CacheConfig {
  version: 1;
  records: CacheRecord[];
}

/**
 * CacheBackend is where an exported build cache lives: an OCI manifest (config =
 * CacheConfig, layers = the records' layers, gzip) in a registry or in an OCI
 * layout directory. Two small implementations, one format.
 */
export interface CacheBackend {
  /** Human-readable location for messages (credentials never included). */
  readonly where: string;
  /** readManifest returns the cache manifest, or undefined when there is none yet. */
  readManifest(): Promise<Manifest | undefined>;
  readBlob(d: Descriptor): Promise<Buffer>;
  openBlob(d: Descriptor): Promise<Readable>;
  /** putBlob makes the blob present (a no-op when it already is). */
  putBlob(d: Descriptor, open: () => Readable): Promise<void>;
  putManifest(bytes: Buffer, mediaType: string): Promise<Digest>;
  close(): void;
}
