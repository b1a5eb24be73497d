import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BuildContext } from '../../../src/context/BuildContext.ts';
import { RACY_MS } from '../../../src/context/StatCache.ts';
import { TempDirs } from '../../unit/context/tree.ts';

// A 200 MB / 20,000-file context, as in docs/CONTEXT.md: 19,990 files of ~5 KiB in 200
// directories plus 10 files of 10 MiB. "Cold" means no stat cache (the page cache is warm,
// since the files were just written); "warm" is a rebuild with the stat cache of the first run.
const tmp = new TempDirs();
let dir = '';
let cachePath = '';

beforeAll(async () => {
  dir = tmp.make('tsbuild-speed-');
  cachePath = join(tmp.make('tsbuild-speed-cache-'), 'statcache.json');
  const small = randomBytes(5 * 1024);
  for (let d = 0; d < 200; d++) {
    mkdirSync(join(dir, `d${d}`));
    for (let f = 0; f < 100 && d * 100 + f < 19_990; f++) {
      small.writeUInt32LE(d * 100 + f, 0); // distinct contents
      writeFileSync(join(dir, `d${d}`, `f${f}.txt`), small);
    }
  }
  mkdirSync(join(dir, 'big'));
  for (let i = 0; i < 10; i++) writeFileSync(join(dir, 'big', `blob${i}`), randomBytes(10 * 1024 * 1024));
  await new Promise((r) => setTimeout(r, RACY_MS + 50));
});
afterAll(() => tmp.cleanup());

async function timed(): Promise<{ ms: number; cpuMs: number; digest: string; reads: number; files: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const ctx = await BuildContext.open(dir, { statCachePath: cachePath });
  const sel = await ctx.select(['.']);
  const digest = await ctx.digest(sel);
  await ctx.saveStatCache();
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, digest, reads: ctx.reads, files: sel.sources[0]!.entries.length };
}

describe('context hashing speed (200 MB, 20,000 files)', () => {
  test('cold and warm', async () => {
    const cold = await timed();
    const warm = await timed();
    console.info(`[hashSpeed] entries=${cold.files} cold=${cold.ms.toFixed(0)}ms wall/${cold.cpuMs.toFixed(0)}ms cpu (reads ${cold.reads}) warm=${warm.ms.toFixed(0)}ms wall/${warm.cpuMs.toFixed(0)}ms cpu (reads ${warm.reads})`);
    expect(warm.digest).toBe(cold.digest);
    expect(cold.reads).toBe(20_000);
    expect(warm.reads).toBe(0);
    // Bounds on CPU time, not wall time: on a shared machine wall time mostly measures the
    // neighbours. Generous so CI passes; measured figures are in docs/CONTEXT.md.
    expect(cold.cpuMs).toBeLessThan(8_000);
    expect(warm.cpuMs).toBeLessThan(1_500);
  });
});
