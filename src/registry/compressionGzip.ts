import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import zlib, { constants } from 'node:zlib';
import { huffmanBlock } from './huffmanWasm.ts';
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

/** SAMPLE is the head of a block that chooseStrategy looks at. */
const SAMPLE = 64 << 10;

/**
 * MATCH_GAIN: a block is searched for repeats (LZ77, level GZIP_LEVEL) only when
 * that made its sample at least this much smaller than Huffman coding alone. Random,
 * base64 or already-compressed content has no repeats worth finding, and searching
 * for them is what makes zlib slow on it (3x slower at the same size here).
 */
const MATCH_GAIN = 0.97;

/** CODE_GAIN: a block is Huffman-coded (or searched) only when Huffman coding would save this much of its sample; else it is stored (a copy). */
const CODE_GAIN = 0.98;

/** Strategy is how one block is deflated. */
type Strategy = 'lz77' | 'huffman' | 'store';

/** The gzip header Node's zlib writes: no mtime, no name, OS unix. */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);

/**
 * deflateRaw deflates data on the thread pool into the pieces the stream emits
 * (unlike zlib.deflateRaw, which copies them into one more buffer).
 */
function deflateRaw(data: Buffer, opts: zlib.ZlibOptions): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const z = zlib.createDeflateRaw(opts);
    const out: Buffer[] = [];
    z.on('data', (c: Buffer) => out.push(c));
    z.once('end', () => resolve(out));
    z.once('error', reject);
    z.end(data);
  });
}

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
  return Readable.from(gzipChunks(chunksOf(input, GZIP_BLOCK), inFlightFor(opts), () => undefined, () => {
    if (!input.destroyed) input.destroy();
  }), { objectMode: false });
}

/**
 * gzipFile is gzipStream of a file's bytes (the same output), read block by block
 * into a few buffers that are used again once their block is deflated and has
 * primed the next one. A fresh 1 MiB buffer per read, as a file stream makes, cost
 * 15 % of the CPU of compressing a 336 MB layer (its page faults and GC).
 */
export function gzipFile(path: string, opts: { concurrency?: number } = {}): Readable {
  const pool: Buffer[] = [];
  let close = () => undefined as unknown;
  async function* blocks(): AsyncGenerator<Buffer> {
    const fh = await open(path, 'r');
    close = () => fh.close().catch(() => undefined);
    const read = async (): Promise<Buffer> => {
      const buf = pool.pop() ?? Buffer.allocUnsafe(GZIP_BLOCK);
      let n = 0;
      // Fill the whole block (a short read is not the end), so blocks are cut where gzipStream cuts them.
      while (n < buf.length) {
        const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
        if (bytesRead === 0) break;
        n += bytesRead;
      }
      return buf.subarray(0, n);
    };
    // One block read ahead, as a file stream does, so the next block is there when asked for.
    let next = read();
    for (;;) {
      const block = await next;
      if (block.length === GZIP_BLOCK) {
        next = read();
        next.catch(() => undefined); // awaited on the next round; a consumer that stopped early never awaits it
      }
      if (block.length) yield block;
      if (block.length < GZIP_BLOCK) return;
    }
  }
  return Readable.from(gzipChunks(blocks(), inFlightFor(opts), (b) => pool.push(Buffer.from(b.buffer, b.byteOffset, GZIP_BLOCK)), () => close()), { objectMode: false });
}

function inFlightFor(opts: { concurrency?: number }): number {
  return Math.max(2, (opts.concurrency ?? availableParallelism()) + 1);
}

/**
 * gzipChunks deflates blocks (GZIP_BLOCK bytes each, the last one shorter) in
 * parallel and yields the gzip member in order. release gets a block back once
 * nothing reads it any more: its own deflate and the next block's (which it
 * primes) are done. done runs when the generator ends, however it ends.
 */
async function* gzipChunks(blocks: AsyncIterable<Buffer>, inFlight: number, release: (b: Buffer) => void, done: () => unknown): AsyncGenerator<Buffer> {
  yield HEADER;
  let crc = 0;
  let size = 0;
  let prev: Buffer | undefined;
  let cur: Buffer | undefined;
  const pending: { out: Promise<Buffer[]>; dict: Buffer | undefined }[] = [];
  const start = (block: Buffer, last: boolean) => {
    const out = deflateBlock(block, prev, last);
    out.catch(() => undefined); // awaited in order below; this only keeps a later failure from going unhandled
    pending.push({ out, dict: prev });
    prev = block;
  };
  const next = async function* () {
    const p = pending.shift()!;
    yield* await p.out;
    if (p.dict) release(p.dict);
  };
  try {
    for await (const block of blocks) {
      if (cur) start(cur, false);
      cur = block;
      crc = crc32(block, crc);
      size = (size + block.length) % 2 ** 32;
      while (pending.length >= inFlight) yield* next();
    }
    start(cur ?? Buffer.alloc(0), true);
    while (pending.length) yield* next();
  } finally {
    await done();
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size, 4);
  yield trailer;
}

/** deflateBlock deflates one block: ended by a sync flush (byte-aligned, not final) unless it is the last. */
async function deflateBlock(block: Buffer, prev: Buffer | undefined, last: boolean): Promise<Buffer[]> {
  const strategy = await chooseStrategy(block);
  // One output buffer that fits the worst case: the block is deflated in one trip to
  // the thread pool, not in 16 KiB rounds through the main thread (2x the CPU).
  const common = { finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH, chunkSize: outputBound(block.length) };
  switch (strategy) {
    case 'store':
      return deflateRaw(block, { ...common, level: 0 });
    case 'huffman':
      // Literals only: our own coder (huffmanWasm.ts), 2x zlib's Z_HUFFMAN_ONLY here, on this thread.
      return [huffmanBlock(block, last)];
    case 'lz77':
      return deflateRaw(block, { ...common, level: GZIP_LEVEL, ...(prev ? { dictionary: prev.subarray(Math.max(0, prev.length - DICTIONARY)) } : {}) });
  }
}

/**
 * chooseStrategy picks a block's strategy from its head (SAMPLE bytes): the
 * order-0 entropy of its bytes estimates what Huffman coding alone would give
 * (no compression run needed); content that Huffman coding cannot shrink by
 * CODE_GAIN is stored; otherwise LZ77 is kept only if it beats that estimate by
 * MATCH_GAIN on the sample.
 */
async function chooseStrategy(block: Buffer): Promise<Strategy> {
  const sample = block.subarray(0, SAMPLE);
  if (sample.length === 0) return 'lz77';
  const huffman = huffmanEstimate(sample);
  if (huffman > sample.length * CODE_GAIN) return 'store';
  // The LZ77 trial is most of the cost of choosing (on base64, a fifth of the whole
  // compression): a quarter of the sample decides most blocks. Content whose head
  // gains plainly from LZ77 gets it; a head that does not gain at all, with the same
  // byte statistics as the whole sample (uniform text such as base64), is Huffman
  // coded. On a tar of /usr this decided as the whole sample did in every block.
  if (sample.length > QUICK_SAMPLE) {
    const head = sample.subarray(0, QUICK_SAMPLE);
    const headHuffman = huffmanEstimate(head);
    if (headHuffman === 0) return 'lz77'; // one byte repeated
    const headLz = await lz77Size(head);
    if (headLz <= headHuffman * QUICK_MATCH_GAIN) return 'lz77';
    if (headLz >= headHuffman && uniform(headHuffman / head.length, huffman / sample.length)) return 'huffman';
  }
  return (await lz77Size(sample)) <= huffman * MATCH_GAIN ? 'lz77' : 'huffman';
}

/** QUICK_SAMPLE is the head of the sample tried first; QUICK_MATCH_GAIN what LZ77 must save on it to be chosen at once. */
const QUICK_SAMPLE = 16 << 10;
const QUICK_MATCH_GAIN = 0.85;

/** uniform tells whether two entropies (bits a byte) are within 1 % of each other. */
function uniform(a: number, b: number): boolean {
  return Math.abs(a - b) <= 0.01 * b;
}

async function lz77Size(data: Buffer): Promise<number> {
  return (await deflateRaw(data, { level: GZIP_LEVEL, chunkSize: outputBound(data.length) })).reduce((n, b) => n + b.length, 0);
}

/** outputBound is more than deflate can ever need for n bytes (stored blocks add 5 bytes per 16 KiB; flush markers a few more). */
function outputBound(n: number): number {
  return Math.max(64 << 10, n + (n >> 8) + 1024);
}

/** huffmanEstimate is the size in bytes of data coded at its order-0 entropy (what Huffman coding alone approaches). */
function huffmanEstimate(data: Buffer): number {
  const counts = new Uint32Array(256);
  for (let i = 0; i < data.length; i++) counts[data[i]!]!++;
  let bits = 0;
  for (let b = 0; b < 256; b++) {
    const c = counts[b]!;
    if (c) bits -= c * Math.log2(c / data.length);
  }
  return bits / 8;
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
