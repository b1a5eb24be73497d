import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { sha256Of } from '../../../src/core/digest.ts';
import { GZIP_BLOCK, gzipFile, gzipStream } from '../../../src/registry/compressionGzip.ts';

async function gzip(data: Buffer, concurrency?: number, piece = 65_536): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += piece) pieces.push(data.subarray(i, i + piece));
  const chunks: Buffer[] = [];
  for await (const c of gzipStream(Readable.from(pieces), concurrency === undefined ? {} : { concurrency })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** text makes compressible content: repeated lines with a counter, like logs or source. */
function text(n: number): Buffer {
  let s = '';
  for (let i = 0; s.length < n; i++) s += `line ${i % 977}: the quick brown fox jumps over the lazy dog ${i % 13}\n`;
  return Buffer.from(s.slice(0, n));
}

describe('parallel gzip (pigz-style blocks)', () => {
  // Sizes around the block boundary, and a mix of compressible and random content.
  const cases: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from('x')],
    ['exactly one block', text(GZIP_BLOCK)],
    ['one block and a byte', text(GZIP_BLOCK + 1)],
    ['mixed, several blocks', Buffer.concat([text(1_500_000), randomBytes(1_200_000), Buffer.from(randomBytes(900_000).toString('base64')), text(700_000)])],
  ];

  test.each(cases)('%s: one gzip member that zlib and gzip(1) inflate to the input', async (_name, data) => {
    const gz = await gzip(data);
    expect(gz.subarray(0, 10).toString('hex')).toBe('1f8b0800000000000003');
    expect(sha256Of(gunzipSync(gz))).toBe(sha256Of(data));
    expect(sha256Of(execFileSync('gzip', ['-d', '-c'], { input: gz, maxBuffer: 1 << 26 }))).toBe(sha256Of(data));
    execFileSync('gzip', ['-t'], { input: gz });
  });

  test('the bytes depend on the input only: not on the number of CPUs nor on how the input is chunked', async () => {
    const data = cases[4]![1];
    const one = await gzip(data, 1, 4096);
    expect((await gzip(data, 4, 1 << 20)).equals(one)).toBe(true);
    expect((await gzip(data, 2, 12_345)).equals(one)).toBe(true);
  });

  test('random data costs almost nothing to store; compressible data shrinks', async () => {
    const rnd = randomBytes(3 * GZIP_BLOCK);
    expect((await gzip(rnd)).length).toBeLessThan(rnd.length * 1.01);
    const t = text(3 * GZIP_BLOCK);
    expect((await gzip(t)).length).toBeLessThan(t.length / 10);
  });

  test('gzipFile (reused read buffers) gives the bytes gzipStream gives, whatever the size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbuild-gzipfile-'));
    try {
      // Empty, exactly 2 blocks, and 7 mixed blocks and a bit: enough for buffers to go round the pool several times.
      const mixed = Buffer.concat([cases[4]![1], randomBytes(GZIP_BLOCK), text(2 * GZIP_BLOCK + 17)]);
      for (const [i, data] of [Buffer.alloc(0), text(2 * GZIP_BLOCK), mixed].entries()) {
        const file = join(dir, `in-${i}`);
        writeFileSync(file, data);
        const chunks: Buffer[] = [];
        for await (const c of gzipFile(file, { concurrency: 1 })) chunks.push(c as Buffer);
        expect(Buffer.concat(chunks).equals(await gzip(data)), `case ${i}`).toBe(true);
      }
      await expect((async () => { for await (const _ of gzipFile(join(dir, 'missing'))) { /* none */ } })()).rejects.toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an input error ends the stream with that error', async () => {
    const failing = new Readable({ read() { this.push(text(100_000)); this.destroy(new Error('disk on fire')); } });
    const chunks: Buffer[] = [];
    await expect((async () => { for await (const c of gzipStream(failing)) chunks.push(c as Buffer); })()).rejects.toThrow('disk on fire');
  });
});
