import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import { digestFromHash, type Digest, type DiffID } from '../core/digest.ts';
import type { ContentStore } from '../store/types.ts';

/** Compression of a blob as told by its first bytes. */
export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

/** IngestedBlob is a blob now in the store, with what a layer needs: its compression and uncompressed digest. */
export interface IngestedBlob {
  digest: Digest;
  size: number;
  compression: Compression;
  /** sha256 of the uncompressed bytes: known for none and gzip only. */
  diffID: DiffID | undefined;
}

/** sniff names the compression from a blob's first bytes. */
export function sniff(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/**
 * ingestBlob streams src into the store in one pass, hashing it and, when it is
 * gzip, its decompressed bytes too (the DiffID), so layers are verified without a
 * second read. The blob is stored under the digest of what it holds; a caller that
 * expects another digest compares (see readArchive: archives are loaded into a
 * StagingStore, so what a failed load stored never reaches the store).
 */
export async function ingestBlob(store: ContentStore, src: Readable | Buffer): Promise<IngestedBlob> {
  const w = await store.writer();
  const plain = createHash('sha256');
  let head = Buffer.alloc(0);
  let compression: Compression | undefined;
  let gunzip: Gunzip | undefined;
  let gunzipDone: Promise<void> = Promise.resolve();
  const decide = () => {
    compression = sniff(head);
    if (compression === 'gzip') {
      gunzip = createGunzip();
      gunzip.on('data', (c: Buffer) => plain.update(c));
      gunzipDone = new Promise((resolve, reject) => { gunzip!.on('end', resolve); gunzip!.on('error', reject); });
    }
    if (compression === 'none') plain.update(head);
    else gunzip?.write(head);
  };
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (compression === undefined) {
        head = Buffer.concat([head, chunk]);
        if (head.length >= 6) decide();
      } else if (compression === 'none') plain.update(chunk);
      else gunzip?.write(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (compression === undefined) decide();
      gunzip?.end();
      gunzipDone.then(() => cb(), cb);
    },
  });
  try {
    const input = Buffer.isBuffer(src) ? Readable.from([src]) : src;
    await pipeline(input, tap, w.stream, { end: false });
    const { digest, size } = await w.commit();
    const c = compression ?? 'none';
    const diffID = c === 'none' || c === 'gzip' ? (digestFromHash(plain) as string as DiffID) : undefined;
    return { digest, size, compression: c, diffID };
  } catch (e) {
    await w.abort();
    throw e;
  }
}
