import { selectExecutor } from '../executor/selectExecutor.ts';
import { cleanupAfterDeaths } from '../snapshot/mounts.ts';
import { OverlaySnapshotter } from '../snapshot/OverlaySnapshotter.ts';
import { openStore } from '../store/openStore.ts';
import { ContainerStore } from './ContainerStore.ts';
import type { ContainerDeps } from './deps.ts';

/**
 * openContainerDeps wires the concrete store, snapshotter and (when runtime is
 * given, for commands that start containers) executor for the container
 * commands: the same store and snapshots the builder uses. Containers are
 * attached to our stdio, so their executor is runc (selectExecutor). What killed
 * processes left under the store is removed first (cleanupAfterDeaths).
 */
export async function openContainerDeps(root: string, runtime?: 'auto' | 'runc'): Promise<ContainerDeps> {
  const store = await openStore(root);
  await cleanupAfterDeaths(store.dirs);
  const deps: ContainerDeps = {
    store,
    containers: new ContainerStore(store),
    snapshotter: new OverlaySnapshotter({ root: store.dirs.root, store: store.content }),
    now: () => new Date(),
  };
  if (runtime !== undefined) deps.executor = await selectExecutor({ job: 'run', runtime });
  return deps;
}
