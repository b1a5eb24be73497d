import { constants as fsc, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { TsbuildError } from '../core/errors.ts';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, launch } from '../sys/launchServer.ts';
import type { ExitStatus } from './types.ts';
import { mountCalls, type FstabEntry } from './unshareSetup.ts';
import { capabilityNumbers, containerSecurity, seccompProgram, type SecurityMode } from './security.ts';

/** LaunchSpec is what launchRun needs: the unshare executor's prepared run. */
export interface LaunchSpec {
  id: string;
  stateDir: string;
  root: string;
  hostname: string;
  network: 'host' | 'none';
  security: SecurityMode;
  uid: number;
  gid: number;
  additionalGids: readonly number[];
  env: readonly string[];
  cwd: string;
  args: readonly string[];
  entries: readonly FstabEntry[];
  stdout: Writable;
  stderr: Writable;
  signal?: AbortSignal | undefined;
}

/**
 * launchRun starts the prepared container through the perl launch server and resolves
 * once it has ended and its output is drained into stdout/stderr (never ended).
 * Output comes over two FIFOs in stateDir, read without blocking a thread-pool thread.
 * An abort SIGKILLs the container's init (the whole pid namespace dies with it).
 */
export async function launchRun(s: LaunchSpec): Promise<ExitStatus> {
  const stdoutFifo = join(s.stateDir, 'stdout');
  const stderrFifo = join(s.stateDir, 'stderr');
  const sec = containerSecurity(s.security);
  const seccompFilter = seccompProgram(s.security);
  const h = launch({
    id: s.id, stateDir: s.stateDir, stdoutFifo, stderrFifo, root: s.root, hostname: s.hostname,
    loopbackUp: s.network === 'none',
    namespaces: CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | (s.network === 'none' ? CLONE_NEWNET : 0),
    uid: s.uid, gid: s.gid, groups: s.additionalGids, cwd: s.cwd,
    keepCapabilities: capabilityNumbers(sec.capabilities), ambientCapabilities: capabilityNumbers(sec.ambient), ...(seccompFilter ? { seccompFilter } : {}),
    mounts: mountCalls(s.entries), env: s.env, args: s.args,
  });
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    h.kill();
  };
  if (s.signal?.aborted) onAbort();
  else s.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await h.made.catch((e: Error) => {
      throw new TsbuildError('RUNTIME', `unshare ${s.id}: ${e.message}`, { cause: e });
    });
    const streams = [readFifo(stdoutFifo, s.stdout), readFifo(stderrFifo, s.stderr)];
    const exit = await h.exit.catch((e: Error) => {
      for (const st of streams) st.socket.destroy();
      throw new TsbuildError('RUNTIME', `unshare ${s.id}: ${e.message}`, { cause: e });
    });
    // A keeper that never opened the FIFOs leaves their reading ends waiting for a writer.
    if (!exit.opened) for (const st of streams) st.socket.destroy();
    await Promise.all(streams.map((st) => st.done));
    if (aborted) return { exitCode: 137, signal: 'SIGKILL' };
    const name = exit.signal ? Object.entries(constants.signals).find(([, n]) => n === exit.signal)?.[0] : undefined;
    return { exitCode: exit.code, ...(name ? { signal: name } : {}) };
  } finally {
    s.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * readFifo opens a FIFO's reading end without blocking (the keeper's writing open then
 * completes) and pipes it into out. No end of file before a writer has come and gone.
 */
function readFifo(path: string, out: Writable): { socket: Socket; done: Promise<void> } {
  const socket = new Socket({ fd: openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK), readable: true, writable: false });
  socket.on('error', () => {});
  socket.pipe(out, { end: false });
  const done = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, done };
}
