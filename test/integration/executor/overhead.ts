/**
 * overhead measures the per-run cost of each executor on `/bin/true` in a busybox
 * rootfs: the median wall time of run(), N runs after a warm-up. Not a test: run it
 * bundled, e.g.
 *   npx esbuild --bundle --platform=node --format=esm --outfile=/tmp/overhead.mjs test/integration/executor/overhead.ts && node /tmp/overhead.mjs 50
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuncExecutor } from '../../../src/executor/RuncExecutor.ts';
import { UnshareExecutor } from '../../../src/executor/UnshareExecutor.ts';
import type { Executor } from '../../../src/executor/types.ts';
import { makeBusyboxRootfs } from '../../helpers/rootfs.ts';

async function measure(ex: Executor, rootfs: string, dir: string, n: number, network: 'host' | 'none'): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n + 3; i++) {
    const t0 = process.hrtime.bigint();
    const st = await ex.run({
      id: `bench-${process.pid}-${i}`, rootfs, network, stateDir: join(dir, `state-${i}`), stdin: 'ignore', stdout: 'inherit', stderr: 'inherit',
      process: { args: ['/bin/true'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0 },
    });
    if (st.exitCode !== 0) throw new Error(`exit ${st.exitCode}`);
    if (i >= 3) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

const n = Number(process.argv[2] ?? 30);
const dir = mkdtempSync(join(tmpdir(), 'tsbuild-overhead-'));
try {
  const rootfs = join(dir, 'rootfs');
  makeBusyboxRootfs(rootfs);
  for (const [name, ex] of [['runc', new RuncExecutor()], ['unshare', new UnshareExecutor()]] as const) {
    for (const network of ['host', 'none'] as const) {
      const t = await measure(ex, rootfs, dir, n, network);
      const q = (p: number) => t[Math.min(t.length - 1, Math.floor(p * t.length))]!.toFixed(1);
      console.log(`${name.padEnd(8)} network=${network.padEnd(4)} n=${n} median=${q(0.5)}ms p10=${q(0.1)} p90=${q(0.9)}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
