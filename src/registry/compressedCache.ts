import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { hexOf, isDigest, type DiffID, type Digest } from '../core/digest.ts';
import { isErrno } from '../core/errors.ts';
import { MediaType } from '../oci/mediaTypes.ts';
import type { Descriptor } from '../oci/types.ts';
import type { ContentStore } from '../store/types.ts';

/**
 * GZIP_LEVEL is fixed: the compressed digest of a layer must not depend on who
 * pushed it. Node's gzip header carries no mtime and no file name (1f8b 0800
 * 00000000 00 03), so equal tars give equal blobs under the same zlib.
 */
export const GZIP_LEVEL = 6;

/** CompressedRecord remembers the gzip blob made from one uncompressed layer. */
export interface CompressedRecord {
  digest: Digest;
  size: number;
  mediaType: string;
}

/**
 * CompressedLayerCache maps a layer's DiffID to its compressed blob, one small JSON
 * file per layer (dir/<diffID hex>.json), so a layer is compressed once per store.
 */
export class CompressedLayerCache {
  constructor(readonly dir: string) {}

  /** get returns the record, or undefined when absent or unreadable (a cache may be lost). */
  async get(diffID: DiffID): Promise<CompressedRecord | undefined> {
    try {
      const r = JSON.parse(await readFile(join(this.dir, `${hexOf(diffID)}.json`), 'utf8')) as CompressedRecord;
      return isDigest(r.digest) && Number.isSafeInteger(r.size) ? r : undefined;
    } catch (e) {
      if (isErrno(e, 'ENOENT') || e instanceof SyntaxError) return undefined;
      throw e;
    }
  }

  /** set writes the record atomically (tmp + rename). */
  async set(diffID: DiffID, r: CompressedRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `${hexOf(diffID)}.json`);
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, JSON.stringify(r));
    await rename(tmp, file);
  }
}

/** isUncompressedLayer tells whether a layer descriptor names a plain tar. */
export function isUncompressedLayer(mediaType: string): boolean {
  return mediaType === MediaType.OciLayer || mediaType === MediaType.DockerLayer;
}

/**
 * ensureCompressed returns the gzip blob of an uncompressed layer (whose digest is
 * its DiffID), compressing it into the store by streaming only when the cache has
 * no record or the blob is gone. docker selects Docker's gzip media type.
 */
export async function ensureCompressed(store: ContentStore, cache: CompressedLayerCache, layer: Descriptor, docker: boolean): Promise<CompressedRecord> {
  const diffID = layer.digest as string as DiffID;
  const mediaType = docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip;
  const hit = await cache.get(diffID);
  if (hit && (await store.has(hit.digest))) return { ...hit, mediaType };
  const w = await store.writer();
  try {
    await pipeline(store.open(layer.digest), createGzip({ level: GZIP_LEVEL }), w.stream);
    const { digest, size } = await w.commit();
    const rec = { digest, size, mediaType: MediaType.OciLayerGzip };
    await cache.set(diffID, rec);
    return { ...rec, mediaType };
  } catch (e) {
    await w.abort();
    throw e;
  }
}
