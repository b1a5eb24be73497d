import { rm } from 'node:fs/promises';

/**
 * BackgroundWork runs a build's bookkeeping off the step's critical path, and the build
 * drains it before it returns:
 * - remove deletes scratch directories: removing a directory that was a mount point in a
 *   container's (now dead) mount namespace waits for the kernel's namespace teardown,
 *   several milliseconds a step. Failures are ignored (the next build's stale-tmp sweep
 *   removes what is left, as after a kill -9).
 * - track awaits work whose failure must fail the build (a cache record write): drain
 *   rethrows the first such error. Nothing later in the build may depend on it.
 */
export class BackgroundWork {
  readonly #pending = new Set<Promise<void>>();
  #error: unknown;

  /** remove starts deleting path (recursively) and returns at once. */
  remove(path: string): void {
    this.#add(rm(path, { recursive: true, force: true }).catch(() => {}));
  }

  /** track keeps p running in the background; its failure is reported by drain. */
  track(p: Promise<unknown>): void {
    this.#add(p.then(() => {}, (e: unknown) => { this.#error ??= e; }));
  }

  /** drain resolves when all work started so far has finished, or rejects with the first tracked failure. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
    if (this.#error !== undefined) throw this.#error;
  }

  #add(p: Promise<void>): void {
    const q: Promise<void> = p.finally(() => this.#pending.delete(q));
    this.#pending.add(q);
  }
}
