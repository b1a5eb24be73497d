import { HUFFMAN_WASM } from './huffmanWasm.generated.ts';

/**
 * The Huffman-only block coder of native/huffman.c (scripts/build-wasm.sh), for the
 * gzip blocks chooseStrategy codes without LZ77 (base64, some text): ~3 ns a byte on
 * this machine against ~7 for zlib's Z_HUFFMAN_ONLY, with the same ratio. It runs on
 * the calling thread, which a push otherwise leaves idle half the time.
 */
interface Exports {
  memory: WebAssembly.Memory;
  in_ptr(): number;
  out_ptr(): number;
  huff(n: number, last: number): number;
}

/** HUFFMAN_MAX_BLOCK is the largest input huffmanBlock takes (the module's fixed input buffer). */
export const HUFFMAN_MAX_BLOCK = 1 << 20;

let exports: Exports | undefined;

function instance(): Exports {
  exports ??= new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(HUFFMAN_WASM, 'base64')), {}).exports as unknown as Exports;
  return exports;
}

/**
 * huffmanBlock deflates data (at most HUFFMAN_MAX_BLOCK bytes) as one dynamic-Huffman
 * block of literals. A last block has BFINAL set; any other ends with an empty stored
 * block (zlib's Z_SYNC_FLUSH), so blocks concatenate into one raw deflate stream.
 * The output depends only on data and last.
 */
export function huffmanBlock(data: Uint8Array, last: boolean): Buffer {
  if (data.length > HUFFMAN_MAX_BLOCK) throw new RangeError(`huffmanBlock: ${data.length} bytes is more than ${HUFFMAN_MAX_BLOCK}`);
  const x = instance();
  new Uint8Array(x.memory.buffer, x.in_ptr(), data.length).set(data);
  const n = x.huff(data.length, last ? 1 : 0);
  return Buffer.from(new Uint8Array(x.memory.buffer, x.out_ptr(), n));
}
