import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hexOf, isDigest, type DiffID, type Digest } from '../core/digest.ts';
import { isErrno } from '../core/errors.ts';
import { siblingTmpName } from '../store/atomicFile.ts';
import { DIR_MODE, FILE_MODE } from '../store/permissions.ts';
import { MediaType } from '../oci/mediaTypes.ts';
import type { Descriptor } from '../oci/types.ts';
import type { ContentStore } from '../store/types.ts';
import { compressFile, compressedMediaType, type LayerCompression } from './compression.ts';

export { GZIP_LEVEL } from './compressionGzip.ts';

/** CompressedRecord remembers the compressed blob (gzip or zstd) made from one uncompressed layer. */
export interface CompressedRecord {
  digest: Digest;
  size: number;
  mediaType: string;
}

/**
 * CompressedLayerCache maps a layer's DiffID to its compressed blob, one small JSON
 * file per layer and compression (dir/<diffID hex>.json for gzip, the form older
 * stores have; dir/<diffID hex>.zstd.json for zstd), so a layer is compressed
 * once per store and kind.
 */
export class CompressedLayerCache {
  constructor(readonly dir: string) {}

  /** get returns the record, or undefined when absent or unreadable (a cache may be lost). */
  async get(diffID: DiffID, kind: LayerCompression = 'gzip'): Promise<CompressedRecord | undefined> {
    try {
      const r = JSON.parse(await readFile(this.#file(diffID, kind), 'utf8')) as CompressedRecord;
      return isDigest(r.digest) && Number.isSafeInteger(r.size) ? r : undefined;
    } catch (e) {
      if (isErrno(e, 'ENOENT') || e instanceof SyntaxError) return undefined;
      throw e;
    }
  }

  /** set writes the record atomically (tmp + rename). */
  async set(diffID: DiffID, r: CompressedRecord, kind: LayerCompression = 'gzip'): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
    const file = this.#file(diffID, kind);
    const tmp = siblingTmpName(join(dirname(this.dir), '..', 'tmp'), file);
    await writeFile(tmp, JSON.stringify(r), { mode: FILE_MODE });
    await rename(tmp, file);
  }

  #file(diffID: DiffID, kind: LayerCompression): string {
    return join(this.dir, kind === 'gzip' ? `${hexOf(diffID)}.json` : `${hexOf(diffID)}.${kind}.json`);
  }
}

/** isUncompressedLayer tells whether a layer descriptor names a plain tar. */
export function isUncompressedLayer(mediaType: string): boolean {
  return mediaType === MediaType.OciLayer || mediaType === MediaType.DockerLayer;
}

/**
 * findCompressed returns the record of a layer's compressed blob (gzip by default,
 * or zstd) when the cache has one and the blob is still in the store. docker selects
 * Docker's gzip media type (zstd has only the OCI one).
 */
export async function findCompressed(
  store: ContentStore, cache: CompressedLayerCache, layer: Descriptor, docker: boolean, kind: LayerCompression = 'gzip',
): Promise<CompressedRecord | undefined> {
  const hit = await cache.get(layer.digest as string as DiffID, kind);
  return hit && (await store.has(hit.digest)) ? { ...hit, mediaType: compressedMediaType(kind, docker) } : undefined;
}

/** CompressTee sends the compressed bytes somewhere else too while they are stored (an upload). */
export interface CompressTee {
  /** Gets the bytes as they are made, with backpressure; destroying it detaches it and the store's copy goes on. */
  to: Writable;
  /** Called with the blob's digest and size once all of it is made, before the store's fsync and rename. */
  sealed?: (blob: { digest: Digest; size: number }) => void;
}

/**
 * compressToStore compresses an uncompressed layer (whose digest is its DiffID)
 * into the store by streaming, and records it; with tee, the compressed bytes go
 * there too as they are made.
 */
export async function compressToStore(
  store: ContentStore, cache: CompressedLayerCache, layer: Descriptor, docker: boolean, kind: LayerCompression, tee?: CompressTee,
): Promise<CompressedRecord> {
  const w = await store.writer();
  try {
    const src = compressFile(kind, store.path(layer.digest));
    // An upload that failed before the compression began has destroyed `to` already: piping
    // into it would stall the compression forever (its 'close' came before this listener).
    if (tee && !tee.to.destroyed) {
      tee.to.once('close', () => src.unpipe(tee.to));
      src.pipe(tee.to);
    }
    await pipeline(src, w.stream);
    if (tee?.sealed) tee.sealed(await w.sealed());
    const { digest, size } = await w.commit();
    const rec = { digest, size, mediaType: compressedMediaType(kind, false) };
    await cache.set(layer.digest as string as DiffID, rec, kind);
    return { ...rec, mediaType: compressedMediaType(kind, docker) };
  } catch (e) {
    await w.abort();
    tee?.to.destroy(e as Error);
    throw e;
  }
}

/**
 * ensureCompressed returns the compressed blob (gzip by default, or zstd) of an
 * uncompressed layer, compressing it into the store only when the cache has no
 * record for that kind or the blob is gone.
 */
export async function ensureCompressed(
  store: ContentStore, cache: CompressedLayerCache, layer: Descriptor, docker: boolean, kind: LayerCompression = 'gzip',
): Promise<CompressedRecord> {
  return (await findCompressed(store, cache, layer, docker, kind)) ?? compressToStore(store, cache, layer, docker, kind);
}
