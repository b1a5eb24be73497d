import { perlServer, startedPerlServer, type SyscallResult } from './perlServer.ts';

export type { SyscallResult } from './perlServer.ts';

/** MS_BIND and MNT_DETACH, from <sys/mount.h>. */
export const MS_BIND = 4096;
export const MNT_DETACH = 2;

let disabled = false;

/**
 * mountCall runs mount(2), umount2(2) or syncfs(2) on the process-wide perl server
 * (src/sys/perlServer.ts): a pipe round trip (~0.7 ms) instead of an exec of util-linux
 * mount(8)/umount(8) (~6 ms each, most of it dynamic linking). Returns null when there
 * is no server (no perl, an architecture without known call numbers, or
 * configureMountServer turned it off): use mount(8) then.
 */
export async function mountCall(op: 'mount' | 'umount' | 'syncfs', cwd: string, args: readonly string[]): Promise<SyscallResult | null> {
  if (disabled) return null;
  const server = perlServer();
  if (!server) return null;
  const r = await server.call(op, cwd, args);
  if (!r.ok && r.errno === -1) {
    disabled = true;
    return null;
  }
  return r;
}

/**
 * mountNamespacePid is the pid of the process whose mount namespace holds what mountCall
 * mounts: the perl server's (it unshares one of its own at start); undefined when there is
 * no server (yet), so mounts are made in ours by mount(8).
 */
export function mountNamespacePid(): number | undefined {
  return disabled ? undefined : startedPerlServer()?.pid;
}

/** disabledMountServer tells whether configureMountServer (or a dead server) turned the server off. */
export function disabledMountServer(): boolean {
  return disabled;
}

/** configureMountServer turns the server off (tests of the fallback path, hosts without perl). */
export function configureMountServer(opts: { enabled: boolean }): void {
  disabled = !opts.enabled;
}
