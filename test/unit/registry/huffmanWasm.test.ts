import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { HUFFMAN_MAX_BLOCK, huffmanBlock } from '../../../src/registry/huffmanWasm.ts';
import { REPO } from '../../helpers/cli.ts';

// The Huffman-only block coder (native/huffman.c in WebAssembly): every block must
// inflate to its input, alone (last) or as a run of sync-flushed blocks; deep codes
// are limited to deflate's 15 bits.

/** fib gives 25 symbols with Fibonacci counts: an optimal code 24 bits deep, so the limiter must act. */
function fib(): Buffer {
  const counts = [1, 1];
  while (counts.length < 25) counts.push(counts.at(-1)! + counts.at(-2)!);
  return Buffer.concat(counts.map((n, i) => Buffer.alloc(n, i * 7)));
}

const cases: [string, Buffer][] = [
  ['one byte', Buffer.from('x')],
  ['one symbol repeated', Buffer.alloc(5000, 65)],
  ['two symbols', Buffer.from('abababababbbbbbbbbba')],
  ['every byte value equally', Buffer.from(Array.from({ length: 256 * 64 }, (_, i) => i & 255))],
  ['base64, a whole block', Buffer.from(randomBytes(800_000).toString('base64')).subarray(0, HUFFMAN_MAX_BLOCK)],
  ['random bytes', randomBytes(100_000)],
  ['Fibonacci counts (length-limited code)', fib()],
];

describe('huffmanBlock', () => {
  test.each(cases)('%s: a last block inflates to the input; a sync-flushed one continues into the next', (_name, data) => {
    expect(inflateRawSync(huffmanBlock(data, true)).equals(data)).toBe(true);
    const chained = Buffer.concat([huffmanBlock(data, false), huffmanBlock(Buffer.from('tail'), false), huffmanBlock(data, true)]);
    expect(inflateRawSync(chained).equals(Buffer.concat([data, Buffer.from('tail'), data]))).toBe(true);
  });

  test('base64 shrinks as Huffman coding should (6 bits a character); the output depends on the input only', () => {
    const data = Buffer.from(randomBytes(600_000).toString('base64'));
    const out = huffmanBlock(data, false);
    expect(out.length / data.length).toBeGreaterThan(0.74);
    expect(out.length / data.length).toBeLessThan(0.77);
    expect(huffmanBlock(data, false).equals(out)).toBe(true);
    expect(() => huffmanBlock(Buffer.alloc(HUFFMAN_MAX_BLOCK + 1), true)).toThrow(RangeError);
  });

  test('the committed module is what scripts/build-wasm.sh makes of native/huffman.c', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbuild-wasm-'));
    try {
      const out = join(dir, 'huffmanWasm.generated.ts');
      execFileSync('bash', [join(REPO, 'scripts/build-wasm.sh'), out]);
      expect(readFileSync(out, 'utf8'), 'run scripts/build-wasm.sh after changing native/huffman.c').toBe(readFileSync(join(REPO, 'src/registry/huffmanWasm.generated.ts'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
