import { exitCodeOf, type StreamingChild } from '../sys/spawnStreaming.ts';
import type { ExitStatus } from './types.ts';

/** ABORTED is what run() resolves with after its signal fired: the container was SIGKILLed. */
export const ABORTED: Readonly<ExitStatus> = Object.freeze({ exitCode: 137, signal: 'SIGKILL' });

const KILL_DEADLINE_MS = 5000;
const KILL_RETRY_MS = 25;

/**
 * waitOrAbort waits for a container's runtime process and reports its exit status.
 * When signal fires (or had fired already), killOnce is called until the process has
 * exited, since the container may still be starting and not yet killable; after ~5 s
 * the runtime process itself is SIGKILLed. The result is then ABORTED, and only once
 * the last killOnce has returned, so nothing of the kill outlives the call.
 */
export async function waitOrAbort(child: StreamingChild, signal: AbortSignal | undefined, killOnce: () => Promise<unknown>): Promise<ExitStatus> {
  let killing: Promise<void> | undefined;
  const onAbort = () => {
    killing = (async () => {
      const deadline = Date.now() + KILL_DEADLINE_MS;
      while (!child.exited() && Date.now() < deadline) {
        await killOnce().catch(() => undefined);
        await Promise.race([child.done.catch(() => undefined), new Promise((r) => setTimeout(r, KILL_RETRY_MS))]);
      }
      child.kill('SIGKILL');
    })();
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const exit = await child.done;
    if (!killing) return { exitCode: exitCodeOf(exit), ...(exit.signal ? { signal: exit.signal } : {}) };
    // A kill still in flight (e.g. `runc kill`, which recreates runc's state dir) must end before cleanup starts.
    await killing;
    return { ...ABORTED };
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
