import { isTemporary } from './errors.ts';

/** RetryOptions bounds retries of temporary failures. */
export interface RetryOptions {
  /** Extra attempts after the first (default 3). */
  retries?: number;
  /** First back-off delay in ms, doubled each time (default 200). */
  baseMs?: number;
  signal?: AbortSignal;
}

/**
 * withRetry runs op and re-runs it after an exponential back-off (base·2^n, plus up
 * to 25 % jitter) while it fails with a temporary error (5xx, 429, connection
 * reset). Any other error, or the last one, is thrown as is. op must be safe to
 * repeat from the start (reopen its streams).
 */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const retries = opts.retries ?? 3;
  const base = opts.baseMs ?? 200;
  for (let attempt = 0; ; attempt++) {
    try {
      return await op(attempt);
    } catch (e) {
      if (attempt >= retries || !isTemporary(e) || opts.signal?.aborted) throw e;
      const delay = base * 2 ** attempt;
      await sleep(delay + Math.random() * delay * 0.25, opts.signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(signal!.reason); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
