import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsbuildError } from '../core/errors.ts';
import { runcDeleteForce } from '../sys/runc.ts';
import { rootfsDir } from './createContainer.ts';
import type { ContainerDeps } from './deps.ts';
import { isAlive } from '../store/liveness.ts';
import { processStartTime } from './liveness.ts';
import { stateDir } from './startContainer.ts';
import type { ContainerView } from './types.ts';

const STOP_GRACE_MS = 10_000;

/**
 * removeContainer deletes a container: its upper layer, mounts, runtime state
 * and record. A running one needs force (else CONTAINER_RUNNING, Docker's
 * wording); it is stopped first (see stopContainer). Removing a container that
 * is already gone is not an error (a `--rm` supervisor may race with `rm -f`).
 */
export async function removeContainer(deps: ContainerDeps, c: ContainerView, opts: { force: boolean }): Promise<void> {
  if (c.state.status === 'running') {
    if (!opts.force) {
      throw new TsbuildError('CONTAINER_RUNNING', `cannot remove container "/${c.name}": container is running: stop the container before removing or force remove`);
    }
    await stopContainer(deps, c);
  }
  await killLeftovers(deps, c);
  const fs = rootfsDir(c);
  if (await exists(join(fs, 'upper'))) await (await deps.snapshotter.reopen(fs, c.image.layers)).remove();
  await deps.containers.delete(c.id);
}

/**
 * stopContainer ends a running container by signalling its supervising tsbuild
 * process (SIGTERM: it kills the container through its executor, unmounts and
 * records the exit), then waits for that process to go. If it does not within
 * 10 s, it is SIGKILLed and the runtime's leftovers are killed directly. Whether
 * the supervisor lives is the kernel's word (store/liveness.ts); a supervisor in
 * another PID namespace cannot be signalled from here (CONTAINER_RUNNING).
 */
export async function stopContainer(deps: ContainerDeps, c: ContainerView): Promise<void> {
  const { owner, pid } = c.state;
  if (owner === undefined) return;
  const alive = () => isAlive(deps.store.dirs.tmp, owner);
  if (!(await alive())) return;
  if (pid === undefined || c.state.pidStart === undefined || (await processStartTime(pid)) !== c.state.pidStart) {
    throw new TsbuildError('CONTAINER_RUNNING', `container ${c.name} is run by a tsbuild process in another PID namespace`, {
      hint: 'stop it from there (Ctrl-C, or tsbuild rm -f in that namespace)',
    });
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // gone already
  }
  const deadline = Date.now() + STOP_GRACE_MS;
  while (Date.now() < deadline && (await alive())) await sleep(20);
  if (await alive()) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    await killLeftovers(deps, c);
  }
}

/**
 * killLeftovers removes a runc container whose supervisor died without
 * cleaning up (kill -9, crash): its state is in the container's own runc root,
 * so nothing else is touched.
 */
async function killLeftovers(deps: ContainerDeps, c: ContainerView): Promise<void> {
  const root = join(stateDir(c), 'runc');
  if (await exists(join(root, c.id))) await runcDeleteForce({ bin: deps.runc ?? 'runc', root }, c.id);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}
