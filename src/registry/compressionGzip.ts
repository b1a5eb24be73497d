import { pipeline, type Readable } from 'node:stream';
import { createGzip } from 'node:zlib';

/**
 * GZIP_LEVEL is fixed: the compressed digest of a layer must not depend on who
 * pushed it. Node's gzip header carries no mtime and no file name (1f8b 0800
 * 00000000 00 03), so equal tars give equal blobs under the same zlib.
 */
export const GZIP_LEVEL = 6;

/** gzipStream streams input gzip-compressed at GZIP_LEVEL; an input error ends the output with it. */
export function gzipStream(input: Readable): Readable {
  return pipeline(input, createGzip({ level: GZIP_LEVEL }), () => undefined);
}
