import { rm } from 'node:fs/promises';

/**
 * DeferredRemoval deletes a build's scratch directories off the step's critical path:
 * removing a directory that was a mount point in a container's (now dead) mount namespace
 * waits for the kernel's namespace teardown, several milliseconds a step. The build drains
 * it before it returns, so nothing outlives the build but what a kill -9 leaves (which the
 * next build's stale-tmp sweep removes).
 */
export class DeferredRemoval {
  readonly #pending = new Set<Promise<void>>();

  /** remove starts deleting path (recursively) and returns at once; failures are ignored. */
  remove(path: string): void {
    const p: Promise<void> = rm(path, { recursive: true, force: true }).catch(() => {}).finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** drain resolves when every removal started so far has finished. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }
}
