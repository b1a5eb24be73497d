import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BuildContext } from '../../../src/context/BuildContext.ts';
import { RACY_MS } from '../../../src/context/StatCache.ts';
import { isRoot } from '../../helpers/rootfs.ts';

// On a file system with 1-second timestamps (here ext4 with 128-byte inodes, which have no
// room for nanoseconds; FAT, exFAT and some NFS servers are alike), a file rewritten with
// the same size within the second the stat cache saw it keeps its size, mtime, ctime and
// inode: only the racy rule (git's) at the file system's real granularity can tell that its
// remembered hash is no longer good.

let work = '';
let mnt = '';

beforeAll(() => {
  if (!isRoot) return;
  work = mkdtempSync(join(tmpdir(), 'tsbuild-racy-'));
  const img = join(work, 'ext4.img');
  mnt = join(work, 'mnt');
  execFileSync('truncate', ['-s', '16M', img]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-I', '128', img], { stdio: 'pipe' });
  execFileSync('mkdir', [mnt]);
  execFileSync('mount', ['-o', 'loop', img, mnt]);
});

afterAll(() => {
  if (!work) return;
  try {
    execFileSync('umount', [mnt]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

/** digestOf opens the context with the stat cache at cachePath and digests `f` (saving the cache). */
async function digestOf(dir: string, cachePath?: string): Promise<string> {
  const ctx = await BuildContext.open(dir, cachePath ? { statCachePath: cachePath } : {});
  const d = await ctx.digest(await ctx.select(['f']));
  await ctx.saveStatCache();
  return d;
}

/** nextSecondAt waits until the wall clock is ms milliseconds into a second. */
async function nextSecondAt(ms: number): Promise<void> {
  const now = Date.now();
  await new Promise((r) => setTimeout(r, (1000 + ms - (now % 1000)) % 1000 || 1000));
}

describe.runIf(isRoot)('stat cache on a file system with 1-second timestamps', () => {
  test('the file system really has whole-second timestamps', () => {
    writeFileSync(join(mnt, 'probe'), 'x');
    const st = statSync(join(mnt, 'probe'));
    expect(st.mtimeMs % 1000).toBe(0);
    expect(st.ctimeMs % 1000).toBe(0);
  });

  test('a file rewritten with the same size in the same second is hashed again', async () => {
    const cache = join(work, 'statcache.bin');
    let tries = 0;
    for (let i = 0; i < 5; i++) {
      const dir = mkdtempSync(join(mnt, 'ctx-'));
      const f = join(dir, 'f');
      // Well into a second, so that the write, the hash and the rewrite fall in it, and the
      // hash comes more than the old 100 ms "racy" margin after the second's start.
      await nextSecondAt(250);
      writeFileSync(f, 'old content\n');
      const before = statSync(f);
      const first = await digestOf(dir, cache);
      writeFileSync(f, 'new content\n');
      const after = statSync(f);
      if (before.mtimeMs !== after.mtimeMs || before.ctimeMs !== after.ctimeMs) continue; // the second ended: try again
      tries++;
      expect([after.size, after.ino]).toEqual([before.size, before.ino]);
      const second = await digestOf(dir, cache);
      expect(second).not.toBe(first);
      expect(second).toBe(await digestOf(dir));
    }
    expect(tries).toBeGreaterThanOrEqual(3);
  });

  test('a file that settled for longer than the granularity is remembered (a warm build reads nothing)', async () => {
    const dir = mkdtempSync(join(mnt, 'ctx-'));
    writeFileSync(join(dir, 'f'), 'settled\n');
    await new Promise((r) => setTimeout(r, 2000 + 2 * RACY_MS));
    const cache = join(work, 'statcache-settled.bin');
    const cold = await BuildContext.open(dir, { statCachePath: cache });
    const d = await cold.digest(await cold.select(['f']));
    await cold.saveStatCache();
    expect(cold.reads).toBe(1);
    const warm = await BuildContext.open(dir, { statCachePath: cache });
    expect(await warm.digest(await warm.select(['f']))).toBe(d);
    expect(warm.reads).toBe(0);
  });
});
