import type { Digest, DiffID } from '../core/digest.ts';
import type { ContainerConfig } from '../oci/types.ts';

/** ContainerStatus is a container's lifecycle state as `ps` shows it. */
export type ContainerStatus = 'created' | 'running' | 'exited';

/** ContainerImage names the image a container was made from. */
export interface ContainerImage {
  /** The image id (config digest). */
  id: Digest;
  /** Digest of the image manifest. */
  manifest: Digest;
  /** The reference as the user gave it (`busybox`, `3f2a`), shown by `ps`. */
  ref: string;
  /** The image's layers, base first: the container's lowerdirs (and what a prune must keep). */
  layers: DiffID[];
}

/** HostConfig is how a container is run, beyond its image config. */
export interface HostConfig {
  network: 'host' | 'none';
  tty: boolean;
  interactive: boolean;
  /** --rm: remove the container when it exits. */
  autoRemove: boolean;
}

/** ContainerState is the mutable part of a record. */
export interface ContainerState {
  status: ContainerStatus;
  /**
   * The liveness id (store/liveness.ts) of the tsbuild process supervising the container
   * while it runs: whether it is alive is asked of the kernel, in any PID namespace.
   */
  owner?: string;
  /** pid of that process in its PID namespace: what `rm -f` signals, from the same namespace. */
  pid?: number;
  /** That process's start time (clock ticks since boot, /proc/PID/stat field 22): tells whether `pid` here is that process. */
  pidStart?: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  /** Set when the container ended because it was killed (rm -f, interrupt). */
  signal?: string;
}

/**
 * ContainerRecord is containers/<id>/container.json: everything known about one
 * container. The effective config is the image config with the run's overrides
 * (-e, -w, -u, --entrypoint, CMD) applied; `commit` starts from it, as Docker's does.
 */
export interface ContainerRecord {
  /** 64 lower-case hex digits. */
  id: string;
  name: string;
  /** ISO 8601 time of creation. */
  created: string;
  image: ContainerImage;
  /** The process: path (argv[0]) and the rest of argv, as Docker's Path/Args. */
  path: string;
  args: string[];
  config: ContainerConfig;
  hostConfig: HostConfig;
  /**
   * Mount points made in the rootfs for the runtime's mounts (`etc/hostname`, `proc`, ...),
   * relative without a leading `/`; left out of a commit when still empty.
   */
  stubs: string[];
  state: ContainerState;
}

/** ContainerView is a record with its status checked against the live system (a dead supervisor means exited). */
export interface ContainerView extends ContainerRecord {
  /** Directory of the container (containers/<id>). */
  dir: string;
}
