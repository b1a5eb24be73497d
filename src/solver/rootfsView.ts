import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { LayerBlob, ActiveSnapshot } from '../snapshot/types.ts';
import { ensureLayers, overlayParents } from './layers.ts';
import type { StepContext } from './solve.ts';

/**
 * withRootfs mounts the layers as an overlay in a scratch dir (extracting or
 * fetching any that are missing), runs fn on the merged root, and always
 * unmounts and removes it afterwards.
 */
export async function withRootfs<T>(sc: StepContext, layers: readonly LayerBlob[], fn: (merged: string, active: ActiveSnapshot) => Promise<T>): Promise<T> {
  await ensureLayers(sc, layers);
  const dir = join(sc.deps.tmpDir, `view-${randomBytes(6).toString('hex')}`);
  const active = await sc.deps.snapshotter.prepare(dir, overlayParents(layers));
  try {
    await active.mount();
    return await fn(active.merged, active);
  } finally {
    await active.remove();
  }
}
