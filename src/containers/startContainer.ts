import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { TsbuildError } from '../core/errors.ts';
import { resolveUser } from '../executor/resolveUser.ts';
import type { ExitStatus } from '../executor/types.ts';
import { rootfsDir } from './createContainer.ts';
import type { ContainerDeps } from './deps.ts';
import { processStartTime } from './liveness.ts';
import { makeMountStubs } from './mountStubs.ts';
import { processEnv } from './runConfig.ts';
import type { ContainerView } from './types.ts';

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
 * supervises it: the overlay is mounted, the record says `running` with this
 * process's pid (so `ps` and `rm -f` elsewhere find it), the executor runs the
 * process with c's config, and when it ends the overlay is unmounted and the
 * record says `exited` with the exit code. Aborting signal (SIGINT/SIGTERM, as
 * `rm -f` sends) kills the container. A process that cannot start (no such
 * executable) throws RUNTIME with exit status 127 (126: not executable), as Docker.
 */
export async function startContainer(deps: ContainerDeps, c: ContainerView, io: StartIO, signal?: AbortSignal): Promise<ExitStatus> {
  if (!deps.executor) throw new TsbuildError('INTERNAL', 'start container: no executor wired');
  if (c.state.status === 'running') throw new TsbuildError('CONTAINER_RUNNING', `container ${c.name} is already running`);
  const active = await deps.snapshotter.reopen(rootfsDir(c), c.image.layers);
  let status: ExitStatus = { exitCode: 255 };
  try {
    await active.mount();
    const stubs = await makeMountStubs(active.merged);
    const user = await resolveUser(active.merged, c.config.User ?? '');
    const pid = process.pid;
    const pidStart = await processStartTime(pid);
    await deps.containers.update(c.id, (r) => {
      r.stubs = [...new Set([...r.stubs, ...stubs])];
      r.state = { status: 'running', pid, ...(pidStart !== undefined ? { pidStart } : {}), startedAt: deps.now().toISOString() };
    });
    status = await deps.executor.run({
      id: c.id,
      rootfs: active.merged,
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
    }).catch((e: unknown) => { throw startError(e); });
    return status;
  } catch (e) {
    if (e instanceof TsbuildError) status = { exitCode: e.exitCode === 1 ? 255 : e.exitCode };
    throw e;
  } finally {
    await active.unmount();
    await deps.containers.update(c.id, (r) => {
      if (r.state.status !== 'running' || r.state.pid !== process.pid) return;
      r.state = { ...r.state, status: 'exited', exitCode: status.exitCode, finishedAt: deps.now().toISOString(), ...(status.signal ? { signal: status.signal } : {}) };
      delete r.state.pid;
      delete r.state.pidStart;
    });
  }
}

/** startError gives a runtime failure to start the process Docker's exit status (127 not found, 126 not executable). */
function startError(e: unknown): unknown {
  if (!(e instanceof TsbuildError) || e.code !== 'RUNTIME') return e;
  const exitCode = /not found|no such file/i.test(e.message) ? 127 : /permission denied/i.test(e.message) ? 126 : 125;
  // The runtime's own id prefix (`runc run <64 hex>: `) says nothing the user can use.
  const message = e.message.replace(/^runc run [0-9a-f]{64}: /, '');
  return new TsbuildError('RUNTIME', message, { exitCode, cause: e, ...(e.hint ? { hint: e.hint } : {}) });
}
