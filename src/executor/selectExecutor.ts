import { TsbuildError } from '../core/errors.ts';
import { runcVersion } from '../sys/runc.ts';
import type { Executor } from './types.ts';

/** ExecutorPreference is the user's --runtime choice. */
export type ExecutorPreference = 'auto' | 'runc' | 'unshare';

/**
 * selectExecutor builds the executor for pref. `auto` takes runc when `runc --version`
 * works (on PATH, runnable), else the unshare fallback; `runc` insists on runc and
 * throws TsbuildError('RUNTIME') without it. Executors are imported lazily so the
 * one not chosen is never loaded.
 */
export async function selectExecutor(pref: ExecutorPreference, opts: { runc?: string } = {}): Promise<Executor> {
  const bin = opts.runc ?? 'runc';
  if (pref === 'unshare') return newUnshare();
  if (await runcVersion(bin)) {
    const { RuncExecutor } = await import('./RuncExecutor.ts');
    return new RuncExecutor({ runc: bin });
  }
  if (pref === 'runc') throw new TsbuildError('RUNTIME', `runc not found or not working (${bin} --version failed)`, { hint: 'install runc (Debian: apt-get install runc) or use --runtime unshare' });
  return newUnshare();
}

async function newUnshare(): Promise<Executor> {
  const { UnshareExecutor } = await import('./UnshareExecutor.ts');
  return new UnshareExecutor();
}

/**
 * selectBuildExecutor picks the executor for build steps. `auto` prefers the
 * unshare executor when the host tools it needs are there: a build step is a
 * short, non-interactive process, and one fork chain (~26 ms idle) instead of a
 * runc start (~65 ms idle, two Go start-ups and a copy of its binary) is what
 * makes per-step overhead half of BuildKit's. `runc` and `unshare` are honoured
 * as given; without the host tools, auto falls back to runc.
 */
export async function selectBuildExecutor(pref: ExecutorPreference, opts: { runc?: string } = {}): Promise<Executor> {
  if (pref !== 'auto') return selectExecutor(pref, opts);
  const { findHostTools } = await import('../sys/unshare.ts');
  const { tools } = await findHostTools();
  if (!tools) return selectExecutor('auto', opts);
  const { UnshareExecutor } = await import('./UnshareExecutor.ts');
  return new UnshareExecutor({ tools });
}
