import type { SpawnOptions } from 'node:child_process';
import { TsbuildError, type ErrorCode } from '../core/errors.ts';
import { childProcess } from './childProcess.ts';

/** RunResult is a finished helper process. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * runTool runs a host tool (mount, umount, runc, ...) to completion, capturing output.
 * A non-zero exit throws TsbuildError(code) with `cmd args: stderr` unless allowFail.
 */
export async function runTool(
  cmd: string,
  args: readonly string[],
  opts: { code?: ErrorCode; allowFail?: boolean; cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  // Its own session: a signal to our process group (Ctrl-C) is for tsbuild to act on, not for a
  // umount or runc delete that its cleanup is waiting for.
  const spawnOpts: SpawnOptions = { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: true };
  if (opts.cwd) spawnOpts.cwd = opts.cwd;
  if (opts.env) spawnOpts.env = opts.env;
  const child = childProcess().spawn(cmd, args, spawnOpts);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (opts.input !== undefined) {
    // A tool may exit before reading its input; that is its answer, not our error.
    child.stdin!.on('error', () => {});
    child.stdin!.end(opts.input);
  }
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new TsbuildError(opts.code ?? 'IO', `${cmd}: ${e.message}`, { cause: e })));
    child.on('close', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
  });
  if (code !== 0 && !opts.allowFail) {
    const detail = stderr.trim().split('\n').pop() || `exit status ${code}`;
    throw new TsbuildError(opts.code ?? 'IO', `${cmd} ${args.join(' ')}: ${detail}`);
  }
  return { code, stdout, stderr };
}
