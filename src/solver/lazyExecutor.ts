import type { Executor, ExitStatus, RunSpec } from '../executor/types.ts';

/**
 * lazyExecutor defers choosing (and probing) the runtime until a step really
 * runs a container, so a fully cached build never spawns `runc --version`.
 */
export function lazyExecutor(make: () => Promise<Executor>): Executor {
  let chosen: Promise<Executor> | undefined;
  return {
    /** The chosen runtime is only known after the first run; report the common default until then. */
    get name() {
      return 'unshare' as const;
    },
    async run(spec: RunSpec): Promise<ExitStatus> {
      chosen ??= make();
      return (await chosen).run(spec);
    },
    /** warm chooses the runtime now and warms it; a failure to choose shows at run(). */
    warm(): void {
      chosen ??= make();
      chosen.then((e) => e.warm?.(), () => {});
    },
  };
}
