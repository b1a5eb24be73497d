import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import zlib, { constants } from 'node:zlib';
import { chunksOf } from './upload.ts';

/**
 * GZIP_LEVEL is fixed: the compressed digest of a layer must not depend on who
 * pushed it. Level 4 is zlib's first "lazy matching" level: on real image content
 * (binaries, libraries) it made blobs 3 % larger than level 6 in half the CPU time
 * (docs/PERFORMANCE-REGISTRY.md has the measurements).
 */
export const GZIP_LEVEL = 4;

/** GZIP_BLOCK is the unit compressed independently (and in parallel): fixed, since the output depends on it. */
export const GZIP_BLOCK = 1 << 20;

/** DICTIONARY is how much of the previous block primes each block: deflate's whole 32 KiB window, so little ratio is lost. */
const DICTIONARY = 32 << 10;

/** SAMPLE is the head of a block that is compressed both ways to choose the block's strategy. */
const SAMPLE = 64 << 10;

/**
 * MATCH_GAIN: a block is searched for repeats (LZ77, level GZIP_LEVEL) only when
 * that made its sample at least this much smaller than Huffman coding alone. Random,
 * base64 or already-compressed content has no repeats worth finding, and searching
 * for them is what makes zlib slow on it (3x slower at the same size here).
 */
const MATCH_GAIN = 0.97;

/** CODE_GAIN: a block without repeats is Huffman-coded only when that saves this much of its sample; else it is stored (a copy). */
const CODE_GAIN = 0.98;

/** Strategy is how one block is deflated. */
type Strategy = 'lz77' | 'huffman' | 'store';

/** The gzip header Node's zlib writes: no mtime, no name, OS unix. */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);

const deflateRaw = promisify<zlib.InputType, zlib.ZlibOptions, Buffer>(zlib.deflateRaw);

/**
 * gzipStream streams input as one gzip member, compressed in parallel: input is cut
 * into GZIP_BLOCK blocks, each deflated on libuv's thread pool (primed with the last
 * 32 KiB of the block before it, ended with a sync flush, the last one with the final
 * bit), and the raw deflate streams are concatenated in order behind one header, as
 * pigz does. Each block's strategy (LZ77 at GZIP_LEVEL, Huffman only, or stored) is chosen
 * from its own bytes, so the output depends only on the input and zlib: the same tar
 * gives the same blob on any machine, whatever the number of CPUs.
 */
export function gzipStream(input: Readable, opts: { concurrency?: number } = {}): Readable {
  const inFlight = Math.max(2, (opts.concurrency ?? availableParallelism()) + 1);
  return Readable.from(gzipChunks(input, inFlight), { objectMode: false });
}

async function* gzipChunks(input: Readable, inFlight: number): AsyncGenerator<Buffer> {
  yield HEADER;
  let crc = 0;
  let size = 0;
  let prev: Buffer | undefined;
  let cur: Buffer | undefined;
  const pending: Promise<Buffer>[] = [];
  const start = (block: Buffer, last: boolean) => {
    const p = deflateBlock(block, prev, last);
    p.catch(() => undefined); // awaited in order below; this only keeps a later failure from going unhandled
    pending.push(p);
    prev = block;
  };
  try {
    for await (const block of chunksOf(input, GZIP_BLOCK)) {
      if (cur) start(cur, false);
      cur = block;
      crc = crc32(block, crc);
      size = (size + block.length) % 2 ** 32;
      while (pending.length >= inFlight) yield await pending.shift()!;
    }
    start(cur ?? Buffer.alloc(0), true);
    while (pending.length) yield await pending.shift()!;
  } finally {
    if (!input.destroyed) input.destroy();
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size, 4);
  yield trailer;
}

/** deflateBlock deflates one block: ended by a sync flush (byte-aligned, not final) unless it is the last. */
async function deflateBlock(block: Buffer, prev: Buffer | undefined, last: boolean): Promise<Buffer> {
  const strategy = await chooseStrategy(block);
  const finishFlush = last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH;
  switch (strategy) {
    case 'store':
      return deflateRaw(block, { level: 0, finishFlush });
    case 'huffman':
      return deflateRaw(block, { level: GZIP_LEVEL, strategy: constants.Z_HUFFMAN_ONLY, finishFlush });
    case 'lz77':
      return deflateRaw(block, { level: GZIP_LEVEL, finishFlush, ...(prev ? { dictionary: prev.subarray(Math.max(0, prev.length - DICTIONARY)) } : {}) });
  }
}

/**
 * chooseStrategy compresses the block's head with LZ77 and with Huffman coding
 * alone, and keeps the cheapest strategy that pays (MATCH_GAIN, CODE_GAIN).
 */
async function chooseStrategy(block: Buffer): Promise<Strategy> {
  const sample = block.subarray(0, SAMPLE);
  if (sample.length === 0) return 'lz77';
  const [lz, huff] = await Promise.all([
    deflateRaw(sample, { level: GZIP_LEVEL }),
    deflateRaw(sample, { level: GZIP_LEVEL, strategy: constants.Z_HUFFMAN_ONLY }),
  ]);
  if (lz.length <= huff.length * MATCH_GAIN) return 'lz77';
  return huff.length <= sample.length * CODE_GAIN ? 'huffman' : 'store';
}

/** crc32 is zlib's CRC-32 (native in Node ≥ 20.15; a table-driven fallback before that). */
function crc32(data: Buffer, prev: number): number {
  const native = (zlib as { crc32?: (d: Buffer, v: number) => number }).crc32;
  if (native) return native(data, prev);
  let c = ~prev >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
