// Throughput check for writeLayerTar and applyLayer (not a vitest test: run by hand, see docs/STORE.md).
//   node bench/layer-commit.mjs [DATADIR]   (bundles this file with esbuild, then runs it)

import { execSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { applyLayer } from '../src/snapshot/applyLayer.ts';
import { writeLayerTar } from '../src/snapshot/layerTar.ts';
import { commitDir } from '../src/snapshot/dirLayer.ts';
import { openStore } from '../src/store/openStore.ts';

const dir = process.argv[2] ?? '/tmp/perfdata';
const src = join(dir, 'tree');

/** makeTree writes ~300 MB in 5,000 files: 4,500 small (1–64 KiB) and 500 larger, in 50 directories. */
function makeTree(): void {
  if (existsSync(src)) return;
  const blob = randomBytes(8 << 20);
  let total = 0;
  for (let i = 0; i < 5000; i++) {
    const d = join(src, `d${i % 50}`);
    mkdirSync(d, { recursive: true });
    const size = i < 4500 ? 1024 + ((i * 7919) % (63 * 1024)) : 200_000 + ((i * 104_729) % 200_000);
    const off = (i * 65_537) % (blob.length - size);
    writeFileSync(join(d, `f${i}`), blob.subarray(off, off + size));
    total += size;
  }
  console.log(`made ${(total / 1e6).toFixed(0)} MB in 5000 files`);
}

function hashSink(): { w: Writable; digest: () => string; bytes: () => number } {
  const h = createHash('sha256');
  let n = 0;
  const w = new Writable({ highWaterMark: 1 << 20, write(c: Buffer, _e, cb) { h.update(c); n += c.length; cb(); }, writev(cs, cb) { for (const c of cs) { h.update(c.chunk as Buffer); n += (c.chunk as Buffer).length; } cb(); } });
  return { w, digest: () => h.digest('hex'), bytes: () => n };
}

async function best(label: string, runs: number, fn: () => Promise<number>): Promise<number> {
  let t = Infinity;
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    bytes = await fn();
    t = Math.min(t, performance.now() - t0);
  }
  console.log(`${label.padEnd(44)} ${(t / 1000).toFixed(3)} s  ${(bytes / 1e6 / (t / 1000)).toFixed(0)} MB/s`);
  return t;
}

makeTree();
let peak = 0;
const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
const size = Number(execSync(`tar -cf - -C ${src} . | wc -c`, { encoding: 'utf8' }));
const tTar = await best('tar -cf - DIR | sha256sum', 3, async () => { execSync(`tar -cf - -C ${src} . | sha256sum`); return size; });
const tOurs = await best('writeLayerTar(DIR) → sha256', 3, async () => {
  const s = hashSink();
  await writeLayerTar(src, s.w);
  return s.bytes();
});
console.log(`ratio: ${(100 * tTar / tOurs).toFixed(0)}% of tar | sha256sum throughput; peak RSS ${(peak / 1e6).toFixed(0)} MB`);
await best('commitDir(DIR) into a store (tar → disk)', 3, async () => {
  const root = join(dir, 'store');
  rmSync(root, { recursive: true, force: true });
  const store = await openStore(root);
  const l = await commitDir(store.content, src);
  return l!.size;
});
const tarFile = join(dir, 'layer.tar');
execSync(`tar -cf ${tarFile} -C ${src} .`);
await best('applyLayer(tar) into a fresh dir', 2, async () => {
  const out = join(dir, 'out');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  const { createReadStream } = await import('node:fs');
  const r = await applyLayer(createReadStream(tarFile, { highWaterMark: 1 << 20 }), out, { whiteouts: 'delete' });
  return r.size;
});
await best('tar -xf (GNU) into a fresh dir', 2, async () => {
  const out = join(dir, 'out');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  execSync(`tar -xf ${tarFile} -C ${out}`);
  return size;
});
clearInterval(timer);
console.log(`peak RSS overall ${(peak / 1e6).toFixed(0)} MB`);
