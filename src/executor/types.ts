import type { Readable, Writable } from 'node:stream';
import type { SecurityMode } from './security.ts';

/** ProcessSpec is what runs inside the container. */
export interface ProcessSpec {
  args: string[];
  /** KEY=VALUE strings. */
  env: string[];
  /** Absolute path inside the container. */
  cwd: string;
  uid: number;
  gid: number;
  additionalGids?: number[];
  /** Allocate a pseudo-terminal (run -t). */
  terminal?: boolean;
}

/** MountSpec is one extra mount inside the container (destination is absolute inside it). */
export interface MountSpec {
  destination: string;
  type: 'bind' | 'tmpfs';
  source: string;
  options: string[];
}

/** RunSpec is one container run. */
export interface RunSpec {
  /** Unique container id (also the hostname unless hostname is set). */
  id: string;
  /** The merged root filesystem (already mounted). */
  rootfs: string;
  process: ProcessSpec;
  mounts?: MountSpec[];
  network: 'host' | 'none';
  /** `sandbox` (the default): Docker's capabilities and seccomp profile; `insecure`: BuildKit's privileged mode (src/executor/security.ts). */
  security?: SecurityMode;
  hostname?: string;
  /** Where the runtime may keep its state and bundle (created/removed by the executor). */
  stateDir: string;
  /**
   * The caller deletes stateDir itself once run() has settled (a build defers it off the
   * step's critical path); the executor then leaves it, with nothing of the runtime's
   * still running or registered in it.
   */
  keepStateDir?: boolean;
  stdin?: Readable | 'inherit' | 'ignore';
  stdout: Writable | 'inherit';
  stderr: Writable | 'inherit';
  /** Aborting kills the container and resolves run() with the signal. */
  signal?: AbortSignal;
}

/** ExitStatus is how the container's main process ended. */
export interface ExitStatus {
  /** The process's exit status; 128+n when it was killed by signal n (shell convention). */
  exitCode: number;
  /** Signal name (SIGKILL, ...) when the process is known to have died of a signal (always set after an abort). */
  signal?: string;
  /**
   * Mount points the executor had to create in the rootfs because they did not exist before the
   * run (e.g. `etc/resolv.conf`, `proc`), relative and without a leading `/`, parents before
   * children. They hold nothing of the step's own: pass them to ActiveSnapshot.commit({stubs}).
   */
  createdStubs?: string[];
}

/** Executor runs one process in a container on a prepared rootfs. */
export interface Executor {
  readonly name: 'runc' | 'unshare';
  run(spec: RunSpec): Promise<ExitStatus>;
  /** warm starts what run() will need (a helper process), without waiting for it; idempotent. */
  warm?(): void;
}
