import type { Writable } from 'node:stream';

/**
 * destroyOnAbort destroys out (a blob writer's stream) with signal's reason once signal
 * aborts, at once if it already has: the tar writer feeding it then fails at its next write,
 * and the caller aborts the staged blob. An interrupted build thus stops writing a big layer
 * at once instead of finishing it first. Returns the function that stops listening.
 */
export function destroyOnAbort(out: Writable, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => {};
  const onAbort = () => out.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  if (signal.aborted) {
    onAbort();
    return () => {};
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
