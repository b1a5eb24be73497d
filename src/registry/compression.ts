import { createReadStream } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { TsbuildError } from '../core/errors.ts';
import { MediaType } from '../oci/mediaTypes.ts';
import { zstdCompress, zstdDecompress } from '../sys/zstd.ts';
import { gzipFile, gzipStream } from './compressionGzip.ts';

/** LayerCompression is how push and save compress a layer stored as a plain tar. */
export type LayerCompression = 'gzip' | 'zstd';

/** LAYER_COMPRESSIONS lists the choices of --compression, default first. */
export const LAYER_COMPRESSIONS: readonly LayerCompression[] = ['gzip', 'zstd'];

/** parseCompression checks a --compression value (USAGE error naming the valid set). */
export function parseCompression(s: string, command: string): LayerCompression {
  if ((LAYER_COMPRESSIONS as readonly string[]).includes(s)) return s as LayerCompression;
  throw new TsbuildError('USAGE', `${command}: --compression must be ${LAYER_COMPRESSIONS.join(' or ')}, not "${s}"`);
}

/**
 * compressedMediaType is the layer media type of a compressed blob. Docker's
 * schema 2 has no zstd type: a zstd layer always goes in an OCI manifest.
 */
export function compressedMediaType(kind: LayerCompression, docker: boolean): string {
  switch (kind) {
    case 'gzip':
      return docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip;
    case 'zstd':
      return MediaType.OciLayerZstd;
  }
}

/** compress streams a plain tar compressed with kind (deterministic: fixed levels and options). */
export function compress(kind: LayerCompression, input: Readable): Readable {
  switch (kind) {
    case 'gzip':
      return gzipStream(input);
    case 'zstd':
      return zstdCompress(input);
  }
}

/** compressFile is compress of a file's bytes (the same output); gzip reads it into reused buffers (gzipFile). */
export function compressFile(kind: LayerCompression, path: string): Readable {
  switch (kind) {
    case 'gzip':
      return gzipFile(path);
    case 'zstd':
      return zstdCompress(createReadStream(path, { highWaterMark: 1 << 20 }));
  }
}

/** Sniffed is what a blob's first bytes say it is. */
export type Sniffed = LayerCompression | 'none';

/** sniffCompression tells gzip (1f 8b) and zstd (28 b5 2f fd) from anything else. */
export function sniffCompression(head: Uint8Array): Sniffed {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/**
 * decompress streams a layer blob decompressed, gzip and zstd told apart by their
 * magic bytes; anything else passes through unchanged. Errors of the source or
 * the decompressor end the returned stream.
 */
export function decompress(input: Readable): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  void (async () => {
    const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let head = Buffer.alloc(0);
    let done = false;
    while (head.length < 4 && !done) {
      const n = await it.next();
      if (n.done) done = true;
      else head = Buffer.concat([head, n.value]);
    }
    const rest = Readable.from((async function* () {
      if (head.length) yield head;
      if (!done) for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
    })());
    switch (sniffCompression(head)) {
      case 'gzip': return pipelineAsync(rest, createGunzip(), out);
      case 'zstd': return pipelineAsync(zstdDecompress(rest), out);
      case 'none': return pipelineAsync(rest, out);
    }
  })().catch((e: unknown) => out.destroy(e as Error));
  return out;
}
