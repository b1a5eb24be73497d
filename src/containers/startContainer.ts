import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { TsbuildError } from '../core/errors.ts';
import { resolveUser, type ResolvedUser } from '../executor/resolveUser.ts';
import type { ExitStatus, RunSpec } from '../executor/types.ts';
import type { ActiveSnapshot } from '../snapshot/types.ts';
import { rootfsDir } from './createContainer.ts';
import type { ContainerDeps } from './deps.ts';
import { processStartTime } from './liveness.ts';
import { ownId } from '../store/liveness.ts';
import { makeMountStubs } from './mountStubs.ts';
import { processEnv } from './runConfig.ts';
import type { ContainerState, ContainerView } from './types.ts';

/** StartIO is where the container's stdio goes; a terminal (-t) needs all three inherited. */
export interface StartIO {
  stdin: 'inherit' | 'ignore';
  stdout: Writable | 'inherit';
  stderr: Writable | 'inherit';
}

/** stateDir is where the runtime keeps a running container's bundle and state (removed when it exits). */
export function stateDir(c: { dir: string }): string {
  return join(c.dir, 'run');
}

/** hostnameOf is a container's hostname: its short id, as in Docker. */
export function hostnameOf(c: { id: string }): string {
  return c.id.slice(0, 12);
}

/**
 * startContainer runs c's process in the foreground of this process, which
 * supervises it. The record is claimed first (status `running` with this
 * process's pid, so `ps` and `rm -f` elsewhere find it, and no second
 * supervisor can start it), then the overlay is mounted, mount-point stubs are
 * made and recorded with the start time, and the executor runs the process.
 * When it ends the overlay is unmounted and the record says `exited` with the
 * exit code; if starting failed before the process existed (unknown user, say)
 * the previous state is put back. Aborting signal (SIGINT/SIGTERM, as `rm -f`
 * sends) kills the container. A process that cannot be executed throws RUNTIME
 * with exit status 127 (126: not executable), as Docker.
 */
export async function startContainer(deps: ContainerDeps, c: ContainerView, io: StartIO, signal?: AbortSignal): Promise<ExitStatus> {
  const executor = deps.executor;
  if (!executor) throw new TsbuildError('INTERNAL', 'start container: no executor wired');
  const pidStart = await processStartTime(process.pid);
  const owner = { owner: ownId(deps.store.dirs.tmp), pid: process.pid, ...(pidStart !== undefined ? { pidStart } : {}) };
  const prev = await deps.containers.claim(c.id, owner);
  let status: ExitStatus | undefined;
  let active: ActiveSnapshot | undefined;
  try {
    active = await deps.snapshotter.reopen(rootfsDir(c), c.image.layers);
    await active.mount();
    const stubs = await makeMountStubs(active.merged);
    const user = await resolveUser(active.merged, c.config.User ?? '');
    await deps.containers.update(c.id, (r) => {
      r.stubs = [...new Set([...r.stubs, ...stubs])];
      r.state = { status: 'running', ...owner, startedAt: deps.now().toISOString() };
    });
    status = { exitCode: 255 };
    status = await executor.run(runSpec(c, active.merged, user, io, signal)).catch((e: unknown) => { throw startError(e); });
    return status;
  } catch (e) {
    if (status && e instanceof TsbuildError) status = { exitCode: e.exitCode === 1 ? 255 : e.exitCode };
    throw e;
  } finally {
    await active?.unmount();
    await deps.containers.update(c.id, (r) => {
      if (r.state.owner !== owner.owner) return;
      r.state = status ? exited(r.state, status, deps.now()) : prev;
    });
  }
}

/** exited is the state after the process ended with status. */
function exited(s: ContainerState, status: ExitStatus, now: Date): ContainerState {
  const out: ContainerState = { ...s, status: 'exited', exitCode: status.exitCode, finishedAt: now.toISOString() };
  delete out.owner;
  delete out.pid;
  delete out.pidStart;
  if (status.signal) out.signal = status.signal;
  else delete out.signal;
  return out;
}

/** runSpec is the executor's view of c: its process, hostname, network and state dir. */
function runSpec(c: ContainerView, rootfs: string, user: ResolvedUser, io: StartIO, signal: AbortSignal | undefined): RunSpec {
  return {
    id: c.id,
    rootfs,
    process: {
      args: [c.path, ...c.args],
      env: processEnv(c.config, hostnameOf(c), c.hostConfig.tty),
      cwd: c.config.WorkingDir || '/',
      uid: user.uid,
      gid: user.gid,
      ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}),
      ...(c.hostConfig.tty ? { terminal: true } : {}),
    },
    network: c.hostConfig.network,
    hostname: hostnameOf(c),
    stateDir: stateDir(c),
    stdin: io.stdin,
    stdout: io.stdout,
    stderr: io.stderr,
    ...(signal ? { signal } : {}),
  };
}

/** startError gives a runtime failure to start the process Docker's exit status (127 not found, 126 not executable). */
function startError(e: unknown): unknown {
  if (!(e instanceof TsbuildError) || e.code !== 'RUNTIME') return e;
  const exitCode = /not found|no such file/i.test(e.message) ? 127 : /permission denied/i.test(e.message) ? 126 : 125;
  // The runtime's own id prefix (`runc run <64 hex>: `) says nothing the user can use.
  const message = e.message.replace(/^runc run [0-9a-f]{64}: /, '');
  return new TsbuildError('RUNTIME', message, { exitCode, cause: e, ...(e.hint ? { hint: e.hint } : {}) });
}
