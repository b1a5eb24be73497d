import { TsbuildError } from '../core/errors.ts';
import type { Executor } from './types.ts';

/** ExecutorPreference is the user's --runtime choice for build steps. */
export type ExecutorPreference = 'auto' | 'runc' | 'unshare';

/**
 * ExecutorRequest is what the runs need, with the user's --runtime. `build`: build steps,
 * detached (stdin ignored, output to streams), which both executors run. `run`:
 * containers of `tsbuild run`, attached to our stdin (-i), terminal (-t) or output,
 * which only runc can give (so `auto` and `runc` mean the same there).
 */
export type ExecutorRequest =
  | { readonly job: 'build'; readonly runtime: ExecutorPreference }
  | { readonly job: 'run'; readonly runtime: 'auto' | 'runc' };

/** ExecutorChoice is the one decision of which executor runs a job, made by chooseExecutor. */
export type ExecutorChoice = { readonly name: 'unshare' } | { readonly name: 'runc'; readonly bin: string };

/** HostRuntimes tells what the host offers; each probe runs only when the choice depends on it. */
export interface HostRuntimes {
  /** The perl launch server can start (/usr/bin/perl, a known architecture). */
  perl(): boolean;
  /** `runc --version` works with this binary. */
  runc(bin: string): Promise<boolean>;
}

/**
 * chooseExecutor decides, in one place, which executor runs a request. Build steps:
 * `auto` takes the unshare executor where perl is (one fork of a small perl per step
 * instead of runc's two Go start-ups), else runc; `unshare` and `runc` insist.
 * `tsbuild run`: runc. Without what the choice needs, TsbuildError('RUNTIME') with a hint.
 */
export async function chooseExecutor(req: ExecutorRequest, host: HostRuntimes, bin = 'runc'): Promise<ExecutorChoice> {
  const runc = async (hint: string): Promise<ExecutorChoice> => {
    if (await host.runc(bin)) return { name: 'runc', bin };
    throw new TsbuildError('RUNTIME', `runc not found or not working (${bin} --version failed)`, { hint });
  };
  if (req.job === 'run') return runc('tsbuild run needs runc: install it (Debian: apt-get install runc)');
  if (req.runtime === 'runc') return runc('install runc (Debian: apt-get install runc), or use --runtime unshare');
  if (host.perl()) return { name: 'unshare' };
  if (req.runtime === 'unshare') {
    throw new TsbuildError('RUNTIME', 'the unshare executor needs /usr/bin/perl, and it is missing or not working', { hint: 'install perl-base, or use --runtime runc' });
  }
  if (await host.runc(bin)) return { name: 'runc', bin };
  throw new TsbuildError('RUNTIME', `no executor for build steps: neither /usr/bin/perl nor runc (${bin} --version) works here`, { hint: 'install perl-base or runc' });
}

/** hostRuntimes probes this host (the perl server starts on its probe: it is needed next anyway). */
export async function hostRuntimes(): Promise<HostRuntimes> {
  const [{ launchServerAvailable }, { runcVersion }] = await Promise.all([import('../sys/launchServer.ts'), import('../sys/runc.ts')]);
  return { perl: launchServerAvailable, runc: async (bin) => (await runcVersion(bin)) !== undefined };
}

/**
 * selectExecutor builds the executor chooseExecutor picks for req on this host.
 * Executors are imported lazily so the one not chosen is never loaded.
 */
export async function selectExecutor(req: ExecutorRequest, opts: { runc?: string; host?: HostRuntimes } = {}): Promise<Executor> {
  const choice = await chooseExecutor(req, opts.host ?? await hostRuntimes(), opts.runc);
  if (choice.name === 'unshare') {
    const { UnshareExecutor } = await import('./UnshareExecutor.ts');
    return new UnshareExecutor();
  }
  const { RuncExecutor } = await import('./RuncExecutor.ts');
  return new RuncExecutor({ runc: choice.bin });
}
