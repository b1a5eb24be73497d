import type { StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { constants } from 'node:os';
import { TsbuildError } from '../core/errors.ts';
import { childProcess } from './childProcess.ts';

/** StreamingStdio says where a long-running child's streams go: our own (inherit) or the given streams. */
export interface StreamingStdio {
  stdin?: Readable | 'inherit' | 'ignore' | undefined;
  stdout: Writable | 'inherit';
  stderr: Writable | 'inherit';
}

/** ChildExit is how a child ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** StreamingChild is a started child whose output is being streamed. */
export interface StreamingChild {
  readonly pid: number;
  /** Resolves once the child has exited *and* its output has been drained into the writables. */
  readonly done: Promise<ChildExit>;
  /** exited tells whether the child process itself has exited (its output may still be draining). */
  exited(): boolean;
  kill(signal: NodeJS.Signals): void;
}

/**
 * spawnStreaming starts cmd with args and streams its stdout/stderr into the given
 * writables without ending them (they outlive the child), and a Readable into its
 * stdin. A child that cannot be started rejects `done` with TsbuildError('RUNTIME').
 */
export function spawnStreaming(cmd: string, args: readonly string[], stdio: StreamingStdio, env?: NodeJS.ProcessEnv): StreamingChild {
  const inMode = stdio.stdin === undefined || stdio.stdin === 'ignore' ? 'ignore' : stdio.stdin === 'inherit' ? 'inherit' : 'pipe';
  const io: StdioOptions = [inMode, stdio.stdout === 'inherit' ? 'inherit' : 'pipe', stdio.stderr === 'inherit' ? 'inherit' : 'pipe'];
  // A child that does not use our terminal gets its own session, so a signal to our process
  // group (Ctrl-C, a supervisor's SIGTERM) reaches tsbuild alone, which stops it and cleans up.
  // One that shares our stdio (`tsbuild run` attached) stays in our group: Ctrl-C is for it.
  const detached = inMode !== 'inherit' && stdio.stdout !== 'inherit' && stdio.stderr !== 'inherit';
  const child = childProcess().spawn(cmd, args, { stdio: io, detached, ...(env ? { env } : {}) });
  let hasExited = false;
  child.once('exit', () => (hasExited = true));
  if (stdio.stdout !== 'inherit') child.stdout!.pipe(stdio.stdout, { end: false });
  if (stdio.stderr !== 'inherit') child.stderr!.pipe(stdio.stderr, { end: false });
  if (inMode === 'pipe') {
    const input = stdio.stdin as Readable;
    // The container may exit without reading all of its input: that is not our error.
    child.stdin!.on('error', () => {});
    input.pipe(child.stdin!);
    child.once('exit', () => input.unpipe(child.stdin!));
  }
  const done = new Promise<ChildExit>((resolve, reject) => {
    child.once('error', (e) => {
      hasExited = true;
      reject(new TsbuildError('RUNTIME', `${cmd}: ${e.message}`, { cause: e, hint: `is ${cmd} installed and on PATH?` }));
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    pid: child.pid ?? -1,
    done,
    exited: () => hasExited,
    kill: (signal) => {
      if (!hasExited) child.kill(signal);
    },
  };
}

/** exitCodeOf folds a ChildExit into one status, 128+n for signal n (the shell's convention). */
export function exitCodeOf(e: ChildExit): number {
  if (e.code !== null) return e.code;
  const n = e.signal ? constants.signals[e.signal] : undefined;
  return n === undefined ? 128 : 128 + n;
}
