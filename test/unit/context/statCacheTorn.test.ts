import { randomBytes } from 'node:crypto';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { StatCache, type FileStat } from '../../../src/context/StatCache.ts';
import { TempDirs } from './tree.ts';

// A stat cache file that an OS crash tore (cut short, zeros or old blocks where its data
// should be, garbage) is discarded: nothing it held is trusted, and the next build hashes
// the files again.

const tmp = new TempDirs();
afterAll(() => tmp.cleanup());

const HEX = (c: string) => c.repeat(64);
const stat = (i: number): FileStat => ({ size: 10 + i, mtimeMs: 1_000_000.5 + i, ctimeMs: 1_000_000.5 + i, ino: 100 + i, dev: 7 });
const FP = HEX('f');

/** written saves a cache with 50 entries and one memo, and returns its path and bytes. */
async function written(): Promise<{ path: string; bytes: Buffer }> {
  const path = join(tmp.make('tsbuild-statcache-'), 'statcache.bin');
  const c = await StatCache.load(path);
  for (let i = 0; i < 50; i++) expect(c.set(`dir/file-${i}`, stat(i), HEX((i % 10).toString()), Date.now())).toBe(true);
  c.setMemo(FP, `sha256:${HEX('e')}`);
  await c.save();
  return { path, bytes: readFileSync(path) };
}

/** trusted lists what a fresh load of path still gives: entries and the memo. */
async function trusted(path: string): Promise<{ entries: number; memo: string | undefined }> {
  const c = await StatCache.load(path);
  let entries = 0;
  for (let i = 0; i < 50; i++) if (c.get(`dir/file-${i}`, stat(i)) !== undefined) entries++;
  return { entries, memo: c.memo(FP) };
}

describe('a torn stat cache file is discarded', () => {
  test('an intact file gives everything back', async () => {
    const { path } = await written();
    expect(await trusted(path)).toEqual({ entries: 50, memo: `sha256:${HEX('e')}` });
  });

  test('truncated to 0 bytes', async () => {
    const { path } = await written();
    truncateSync(path, 0);
    expect(await trusted(path)).toEqual({ entries: 0, memo: undefined });
  });

  test('cut in half: the entries go, the memos (whole, checked on their own) may stay', async () => {
    const { path, bytes } = await written();
    truncateSync(path, Math.floor(bytes.length / 2));
    expect((await trusted(path)).entries).toBe(0);
  });

  test('garbage', async () => {
    const { path, bytes } = await written();
    writeFileSync(path, randomBytes(bytes.length));
    expect(await trusted(path)).toEqual({ entries: 0, memo: undefined });
  });

  test('a block of zeros among the entries (data that never reached the disk)', async () => {
    const { path, bytes } = await written();
    bytes.fill(0, bytes.length - 600, bytes.length - 400);
    writeFileSync(path, bytes);
    expect(await trusted(path)).toEqual({ entries: 0, memo: `sha256:${HEX('e')}` });
  });

  test('one remembered hash replaced (old blocks of another file)', async () => {
    const { path, bytes } = await written();
    // The first entry's sha256 is the 32 bytes after its key and stat fields.
    const first = bytes.indexOf(Buffer.from('dir/file-0'));
    bytes.fill(0xab, first + 'dir/file-0'.length + 40, first + 'dir/file-0'.length + 72);
    writeFileSync(path, bytes);
    expect((await trusted(path)).entries).toBe(0);
  });

  test('the memos torn', async () => {
    const { path, bytes } = await written();
    bytes.fill(0, 12, 40);
    writeFileSync(path, bytes);
    expect((await trusted(path)).memo).toBeUndefined();
  });
});

test('isIntact tells a whole file from a torn one (fsck)', async () => {
  const { path, bytes } = await written();
  expect(StatCache.isIntact(path)).toBe(true);
  expect(StatCache.isIntact(`${path}.missing`)).toBe(true);
  bytes[bytes.length - 100]! ^= 1;
  writeFileSync(path, bytes);
  expect(StatCache.isIntact(path)).toBe(false);
});
