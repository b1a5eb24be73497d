import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { LayerBlob, ActiveSnapshot } from '../snapshot/types.ts';
import type { SolverDeps } from './types.ts';

/**
 * withRootfs mounts the layers as an overlay in a scratch dir, runs fn on the
 * merged root, and always unmounts and removes it afterwards.
 */
export async function withRootfs<T>(deps: SolverDeps, layers: readonly LayerBlob[], fn: (merged: string, active: ActiveSnapshot) => Promise<T>): Promise<T> {
  const dir = join(deps.tmpDir, `view-${randomBytes(6).toString('hex')}`);
  const active = await deps.snapshotter.prepare(dir, layers.map((l) => l.diffID));
  try {
    await active.mount();
    return await fn(active.merged, active);
  } finally {
    await active.remove();
  }
}
