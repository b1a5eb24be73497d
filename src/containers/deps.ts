import type { Executor } from '../executor/types.ts';
import type { Snapshotter } from '../snapshot/types.ts';
import type { LocalStore } from '../store/types.ts';
import type { ContainerStore } from './ContainerStore.ts';

/** ContainerDeps are the parts container lifecycle functions work with (wired by the CLI). */
export interface ContainerDeps {
  store: LocalStore;
  containers: ContainerStore;
  snapshotter: Snapshotter;
  /** Needed only to start containers. */
  executor?: Executor;
  /** The runc binary, for cleaning up after a supervisor that was killed (default `runc`). */
  runc?: string;
  now: () => Date;
}
