import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsbuildError } from '../core/errors.ts';
import { namespacePath } from '../sys/mount.ts';
import { runcDeleteForce, runcErrors, runcKill, runcRun, type RuncGlobal } from '../sys/runc.ts';
import { writeContainerFiles } from './containerFiles.ts';
import { ensureCwd, prepareMountPoints } from './mountPoints.ts';
import { allMounts, buildRuntimeSpec } from './runtimeSpec.ts';
import type { Executor, ExitStatus, RunSpec } from './types.ts';
import { ABORTED, waitOrAbort } from './waitOrAbort.ts';

/** RuncExecutorOptions configures RuncExecutor. */
export interface RuncExecutorOptions {
  /** The runc binary (default: `runc` on PATH). */
  runc?: string;
}

const ID_RE = /^[\w+.-]+$/;

/**
 * RuncExecutor runs a step with `runc run` on an OCI bundle it writes into
 * spec.stateDir/bundle (root = spec.rootfs), keeping runc's state under
 * spec.stateDir/runc. Everything under spec.stateDir is removed when run() settles.
 * A rootfs mounted in the mount helper's namespace (a view, see sys/mount.ts
 * mountView) is given to runc as that namespace sees it, and runc runs in it (nsenter).
 */
export class RuncExecutor implements Executor {
  readonly name = 'runc' as const;
  readonly #bin: string;

  constructor(opts: RuncExecutorOptions = {}) {
    this.#bin = opts.runc ?? 'runc';
  }

  /**
   * run starts the container and resolves with its exit status once it has exited and
   * its output is drained. Mount points it had to create in the rootfs are returned
   * as createdStubs. A runc failure (bad config, missing executable) throws
   * TsbuildError('RUNTIME'); an abort resolves with ABORTED and leaves nothing behind
   * (if runc itself had to be killed, `runc delete --force` ends the container).
   */
  async run(spec: RunSpec): Promise<ExitStatus> {
    if (!ID_RE.test(spec.id)) throw new TsbuildError('RUNTIME', `invalid container id "${spec.id}": want letters, digits, _ + - .`);
    const terminal = spec.process.terminal === true;
    if (terminal && (spec.stdin !== 'inherit' || spec.stdout !== 'inherit' || spec.stderr !== 'inherit')) {
      throw new TsbuildError('RUNTIME', 'a terminal needs inherited stdin, stdout and stderr', { hint: 'run -t only from a terminal' });
    }
    if (spec.signal?.aborted) return { ...ABORTED };
    const g: RuncGlobal = { bin: this.#bin, root: join(spec.stateDir, 'runc') };
    const bundle = join(spec.stateDir, 'bundle');
    try {
      // Small local writes are synchronous: cheaper than thread-pool round trips on every step.
      mkdirSync(bundle, { recursive: true });
      const files = writeContainerFiles(spec.stateDir, spec.hostname ?? spec.id);
      const root = namespacePath(spec.rootfs);
      const config = buildRuntimeSpec(inNamespace(spec), files, terminal);
      const { createdStubs } = await prepareMountPoints(spec.rootfs, allMounts(spec, files));
      await ensureCwd(spec.rootfs, spec.process.cwd);
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
      const logFile = join(spec.stateDir, 'runc.log');
      const child = runcRun(g, { bundle, id: spec.id, logFile, stdio: { stdin: spec.stdin, stdout: spec.stdout, stderr: spec.stderr }, ...(root.pid !== undefined ? { mountNamespaceOf: root.pid } : {}) });
      // runc kill fails until runc has created the container; waitOrAbort retries it.
      const status = await waitOrAbort(child, spec.signal, () => runcKill(g, spec.id, 'KILL'));
      if (status.signal === undefined && status.exitCode !== 0) {
        const errors = await runcErrors(logFile);
        if (errors.length > 0) throw new TsbuildError('RUNTIME', `runc run ${spec.id}: ${errors[errors.length - 1]}`);
      }
      return { ...status, createdStubs };
    } finally {
      await cleanup(g, spec);
    }
  }
}

/** inNamespace gives the rootfs and bind sources as the mount namespace holding the rootfs sees them. */
function inNamespace(spec: RunSpec): RunSpec {
  const mounts = spec.mounts?.map((m) => (m.type === 'bind' ? { ...m, source: namespacePath(m.source).path } : m));
  return { ...spec, rootfs: namespacePath(spec.rootfs).path, ...(mounts ? { mounts } : {}) };
}

/** cleanup removes the container if runc left it behind (crash or abort), then all of stateDir. */
async function cleanup(g: RuncGlobal, spec: RunSpec): Promise<void> {
  if (existsSync(join(g.root, spec.id))) await runcDeleteForce(g, spec.id);
  if (!spec.keepStateDir) rmSync(spec.stateDir, { recursive: true, force: true });
}
