import { perlServer } from './perlServer.ts';

/** MountCall is one mount(2) call: empty source, type or data pass NULL. */
export interface MountCall {
  source: string;
  target: string;
  type: string;
  flags: number;
  data: string;
}

/** LaunchRequest is one container start. Paths are the host's; cwd is inside the new root. */
export interface LaunchRequest {
  id: string;
  stateDir: string;
  stdoutFifo: string;
  stderrFifo: string;
  /** The new root, pivoted into (a bind of the rootfs made by the first mount). */
  root: string;
  hostname: string;
  /** Bring lo up (a fresh network namespace). */
  loopbackUp: boolean;
  /** unshare(2) flags (CLONE_NEW*). */
  namespaces: number;
  uid: number;
  gid: number;
  groups: readonly number[];
  /** Capability numbers kept in the bounding set; all others are dropped. */
  keepCapabilities: readonly number[];
  /** The inheritable and ambient sets, exactly (empty but for insecure mode). */
  ambientCapabilities: readonly number[];
  /** A classic-BPF seccomp program (struct sock_filter array) installed before the uid switch; none when absent. */
  seccompFilter?: Buffer;
  cwd: string;
  mounts: readonly MountCall[];
  env: readonly string[];
  args: readonly string[];
}

/** LaunchExit is how a launched container ended. */
export interface LaunchExit {
  code: number;
  /** The signal number that killed the init, 0 when it exited. */
  signal: number;
  /** False when the keeper never opened the FIFOs (their reading ends will see no writer). */
  opened: boolean;
}

/** LaunchHandle follows one started container. */
export interface LaunchHandle {
  /** Resolves once the FIFOs exist: open their reading ends then (the keeper waits for them). */
  readonly made: Promise<void>;
  readonly exit: Promise<LaunchExit>;
  /** Kills the container (SIGKILL to its init); its exit still arrives on `exit`. */
  kill(): void;
}

/** CLONE_NEW* flags of unshare(2). */
export const CLONE_NEWNS = 0x20000;
export const CLONE_NEWUTS = 0x4000000;
export const CLONE_NEWIPC = 0x8000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

/** launchServerAvailable tells whether containers can be launched through the perl server here. */
export function launchServerAvailable(): boolean {
  return perlServer() !== undefined;
}

/** warmLaunchServer starts the perl server now, so its start-up overlaps the caller's other work. */
export function warmLaunchServer(): void {
  perlServer();
}

/**
 * launch starts one container through the perl server (src/sys/perlServer.ts, which
 * documents the protocol). Both promises reject if the server cannot start it.
 */
export function launch(r: LaunchRequest): LaunchHandle {
  const fields = [
    r.stateDir, r.stdoutFifo, r.stderrFifo, r.root, r.hostname, r.loopbackUp ? '1' : '0', String(r.namespaces),
    String(r.uid), String(r.gid), r.groups.join(','), r.keepCapabilities.join(','), r.ambientCapabilities.join(','), r.seccompFilter?.toString('hex') ?? '', r.cwd,
    String(r.mounts.length), ...r.mounts.flatMap((m) => [m.source, m.target, m.type, String(m.flags), m.data]),
    String(r.env.length), ...r.env, ...r.args,
  ];
  let madeResolve!: () => void;
  let madeReject!: (e: Error) => void;
  let exitResolve!: (e: LaunchExit) => void;
  let exitReject!: (e: Error) => void;
  const made = new Promise<void>((res, rej) => ((madeResolve = res), (madeReject = rej)));
  const exit = new Promise<LaunchExit>((res, rej) => ((exitResolve = res), (exitReject = rej)));
  // Whoever awaits only one of them must not see the other one's rejection unhandled.
  made.catch(() => {});
  exit.catch(() => {});
  const server = perlServer();
  const fail = (message: string) => {
    const e = new Error(`launch ${r.id}: ${message}`);
    madeReject(e);
    exitReject(e);
  };
  if (!server) fail('perl server unavailable');
  else if (r.args.length === 0) fail('no command');
  else {
    server.launch(r.id, fields, {
      made: madeResolve,
      failed: fail,
      exited: (code, signal, opened) => {
        madeResolve();
        exitResolve({ code, signal, opened });
      },
    });
  }
  return { made, exit, kill: () => server?.kill(r.id) };
}
