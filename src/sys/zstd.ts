import type { Readable } from 'node:stream';
import { pipeThrough } from './pipeThrough.ts';

/** ZSTD_BIN is the zstd command-line tool (Debian package zstd); Node 20's zlib has no zstd. */
export const ZSTD_BIN = 'zstd';

/**
 * ZSTD_LEVEL is fixed so that a layer's compressed digest does not depend on who
 * compressed it. zstd's multi-threaded mode gives the same bytes for any number of
 * workers (checked with -T1, -T2 and -T0), so -T0 uses every core without losing
 * determinism; --single-thread would give other bytes and is never used.
 */
export const ZSTD_LEVEL = 3;

/** ZSTD_COMPRESS_ARGS pins every option that changes the output: level, workers mode, checksum; quiet, to stdout. */
export const ZSTD_COMPRESS_ARGS: readonly string[] = [`-${ZSTD_LEVEL}`, '-T0', '--check', '-q', '--no-progress', '-c'];

/** zstdCompress streams input through `zstd -3 -T0 --check -c` (a zstd frame, no content size: input is a pipe). */
export function zstdCompress(input: Readable): Readable {
  return pipeThrough(ZSTD_BIN, ZSTD_COMPRESS_ARGS, input);
}

/** zstdDecompress streams a zstd stream (one or more frames) through `zstd -d -c`; corrupt input fails the stream. */
export function zstdDecompress(input: Readable): Readable {
  return pipeThrough(ZSTD_BIN, ['-d', '-q', '--no-progress', '-c'], input);
}
