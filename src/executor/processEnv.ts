import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { TsbuildError } from '../core/errors.ts';
import { secureJoin } from '../sys/secureJoin.ts';
import { homeDir } from './resolveUser.ts';

/** withHome adds HOME from the image's passwd (by uid) unless env sets it, as runc does. */
export async function withHome(rootfs: string, uid: number, env: string[]): Promise<string[]> {
  if (env.some((kv) => kv.startsWith('HOME='))) return env;
  return [...env, `HOME=${await homeDir(rootfs, uid)}`];
}

async function isExecutable(rootfs: string, path: string): Promise<boolean> {
  const st = await stat(await secureJoin(rootfs, path)).catch(() => undefined);
  return st !== undefined && st.isFile() && (st.mode & 0o111) !== 0;
}

/**
 * findExecutable checks, before anything starts, that args[0] can be run in the
 * rootfs: a name containing `/` as a path (relative to cwd), a bare name through the
 * PATH of env (Go's exec.LookPath, as runc does). Throws TsbuildError('RUNTIME') with
 * runc's wording otherwise, so both executors fail the same way.
 */
export async function findExecutable(rootfs: string, arg0: string, env: readonly string[], cwd: string): Promise<void> {
  if (arg0 === '') throw new TsbuildError('RUNTIME', 'exec: no command given');
  if (arg0.includes('/')) {
    if (!(await isExecutable(rootfs, posix.resolve(cwd, arg0)))) throw new TsbuildError('RUNTIME', `exec: "${arg0}": no such executable file`);
    return;
  }
  const path = [...env].reverse().find((kv) => kv.startsWith('PATH='))?.slice(5) ?? '';
  for (const dir of path.split(':')) {
    if (dir !== '' && (await isExecutable(rootfs, posix.resolve(cwd, dir, arg0)))) return;
  }
  throw new TsbuildError('RUNTIME', `exec: "${arg0}": executable file not found in $PATH`);
}
