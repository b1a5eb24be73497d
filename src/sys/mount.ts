import { readFile, rm } from 'node:fs/promises';
import { TsbuildError } from '../core/errors.ts';
import { runTool } from './run.ts';
import { mountTool, startedMountTool } from './toolServer.ts';
import { perlServer, startedPerlServer, type SyscallResult } from './perlServer.ts';

export type { SyscallResult } from './perlServer.ts';

/** MOUNT_DATA_MAX is the kernel's limit on mount(2) option data: one page. */
export const MOUNT_DATA_MAX = 4096;

/** MS_BIND and MNT_DETACH, from <sys/mount.h>. */
export const MS_BIND = 4096;
export const MNT_DETACH = 2;

/** Set by configureMountServer, or once the perl server has died: mount(8) from then on. */
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
 * mountNamespacePid is the pid of the process whose mount namespace holds our mounts: the
 * perl server's, else the mount(8) server's (each unshares one of its own at start);
 * undefined before either has started.
 */
export function mountNamespacePid(): number | undefined {
  return ((disabled ? undefined : startedPerlServer()) ?? startedMountTool())?.pid;
}

/** configureMountServer turns the server off (tests of the fallback path, hosts without perl). */
export function configureMountServer(opts: { enabled: boolean }): void {
  disabled = !opts.enabled;
}

/** OverlayMount describes one overlay mount; lowerdirs are top-most first, as overlayfs wants them. */
export interface OverlayMount {
  /** Lower layer paths, top-most first. Relative paths resolve against cwd. */
  lowerdirs: readonly string[];
  upperdir: string;
  workdir: string;
  target: string;
  /** Directory mount(8) runs in, so relative lowerdirs stay short. */
  cwd?: string;
  /**
   * Mount with `volatile` (Linux 5.10+, used where the kernel has it): overlayfs then skips
   * every sync of the upper file system, including the syncfs of the whole upper file system
   * that an unmount does otherwise (about half of a trivial build step's mount cost). The
   * upper dir is then not crash-safe until the caller syncs it.
   */
  volatile?: boolean;
}

/**
 * overlayOptions renders the option string of an overlay mount. redirect_dir,
 * metacopy and index are forced off: with them on, the kernel may record a
 * rename or a chmod in the upper dir as an xattr instead of data, which a
 * layer tar cannot express (we would silently lose changes).
 */
export function overlayOptions(m: OverlayMount): string {
  return `lowerdir=${m.lowerdirs.join(':')},upperdir=${m.upperdir},workdir=${m.workdir},redirect_dir=off,metacopy=off,index=off${m.volatile ? ',volatile' : ''}`;
}

/** volatileWorks is false once the kernel refused `volatile` (before 5.10); then mounts go without it. */
let volatileWorks = true;

/** mountOverlay mounts an overlay on m.target; throws TsbuildError('MOUNT') if options exceed one page or mount fails. */
export async function mountOverlay(m: OverlayMount): Promise<void> {
  if (m.lowerdirs.length === 0) throw new TsbuildError('INTERNAL', `mount overlay on ${m.target}: no lowerdirs`);
  for (const p of [...m.lowerdirs, m.upperdir, m.workdir]) {
    if (/[,:\\]/.test(p)) throw new TsbuildError('MOUNT', `mount overlay on ${m.target}: path "${p}" contains , : or \\`);
  }
  const opts = overlayOptions(m);
  if (Buffer.byteLength(opts) >= MOUNT_DATA_MAX) {
    throw new TsbuildError('MOUNT', `mount overlay on ${m.target}: ${m.lowerdirs.length} layers make ${Buffer.byteLength(opts)} bytes of options, over the kernel's ${MOUNT_DATA_MAX}`, {
      hint: 'squash some layers (fewer RUN/COPY steps)',
    });
  }
  const run = (o: string) => mountFs('overlay', m.target, 'overlay', 0, o, m.cwd);
  if (!m.volatile || !volatileWorks) {
    await run(m.volatile ? overlayOptions({ ...m, volatile: false }) : opts);
    return;
  }
  try {
    await run(opts);
  } catch {
    // An old kernel rejects the unknown option; anything else fails again without it and is reported then.
    volatileWorks = false;
    await run(overlayOptions({ ...m, volatile: false }));
  }
}

/** mountFs is mount(2) through the mount server, else mount(8); a failure is TsbuildError('MOUNT'). */
async function mountFs(source: string, target: string, type: string, flags: number, data: string, cwd = '/'): Promise<void> {
  const r = await mountCall('mount', cwd, [source, target, type, String(flags), data]);
  if (r?.ok) return;
  if (r) throw new TsbuildError('MOUNT', `mount ${type || 'bind'} ${source} on ${target}: ${r.message}`);
  const args = flags & MS_BIND ? ['--bind', source, target] : ['-t', type, source, '-o', data, target];
  await mountTool('mount', args, { code: 'MOUNT', cwd });
}

/** syncFs flushes the file system holding path (syncfs(2), through `sync -f`). */
export async function syncFs(path: string): Promise<void> {
  const r = await mountCall('syncfs', '/', [path]);
  if (r?.ok) return;
  if (r) throw new TsbuildError('IO', `syncfs ${path}: ${r.message}`);
  await runTool('sync', ['-f', path], { code: 'IO' });
}

/**
 * syncFsLater makes the file system holding path durable without waiting for it: a
 * detached process (forked by the perl server, so it outlives tsbuild) runs syncfs(2)
 * and then deletes the marker files in done. Without the server, the sync is made here
 * (`sync -f`) and the markers deleted after it.
 */
export async function syncFsLater(path: string, done: readonly string[]): Promise<void> {
  const server = disabled ? undefined : perlServer();
  const r = server ? await server.syncDetached(path, done) : undefined;
  if (r?.ok) return;
  await syncFs(path);
  await Promise.all(done.map((f) => rm(f, { force: true })));
}

/** bindMount binds source on target (read-write). */
export async function bindMount(source: string, target: string): Promise<void> {
  await mountFs(source, target, '', MS_BIND, '');
}

/**
 * unmount detaches target. If it is busy (a process still has a file open
 * in it), it is detached lazily (`umount -l`): gone from the namespace now,
 * freed when the last user goes. Not mounted is not an error. The namespace is
 * the one our mounts live in (see mountView); `ours` is this process's own, which
 * holds only what older versions left (umount(8), run from here).
 */
export async function unmount(target: string, namespace: 'mounts' | 'ours' = 'mounts'): Promise<void> {
  if (namespace === 'ours') return unmountWithTool(target, 'self', runTool);
  const r = await mountCall('umount', '/', [target, '0']);
  if (!r) return unmountWithTool(target, mountNamespacePid() ?? 'self', mountTool);
  // EINVAL or ENOENT: not mounted (or gone); EBUSY: still in use, so detach it lazily.
  if (r.ok || r.errno === EINVAL || r.errno === ENOENT) return;
  const last = r.errno === EBUSY ? ((await mountCall('umount', '/', [target, String(MNT_DETACH)])) ?? r) : r;
  if (last.ok) return;
  throw new TsbuildError('MOUNT', `umount ${target}: ${last.message}`);
}

/** unmountWithTool is unmount through umount(8), in the namespace of pid, run by tool. */
async function unmountWithTool(target: string, pid: number | 'self', tool: typeof mountTool): Promise<void> {
  const isMountPoint = async () => (await listMounts(pid)).some((m) => m.mountPoint === target);
  if (!(await isMountPoint())) return;
  const t = await tool('umount', [target], { code: 'MOUNT', allowFail: true });
  if (t.code === 0 || !(await isMountPoint())) return;
  if (!/busy/i.test(t.stderr)) throw new TsbuildError('MOUNT', `umount ${target}: ${t.stderr.trim() || `exit status ${t.code}`}`);
  await tool('umount', ['-l', target], { code: 'MOUNT' });
}

const ENOENT = 2;
const EBUSY = 16;
const EINVAL = 22;

/**
 * mountView is where this process reaches path of the mount namespace our mounts live in:
 * `/proc/PID/root/PATH` of the perl server, or of the mount(8) server without it, which
 * hold them in a namespace of their own (so they die with it, and it dies with tsbuild);
 * path itself before either has started. Open, read and write through a view; never
 * realpath() it (the link reads as `/`, which is our namespace) and never rename across it
 * (another mount).
 */
export function mountView(path: string): string {
  const pid = mountNamespacePid();
  return pid === undefined ? path : `/proc/${pid}${ROOT_LINK}${path}`;
}

const ROOT_LINK = '/root';
const VIEW = /^\/proc\/(\d+)\/root(\/.*)$/;

/** NamespacePath is a path as the mount namespace that holds it sees it. */
export interface NamespacePath {
  path: string;
  /** The process whose mount namespace that is (see mountView); undefined: ours. */
  pid?: number;
}

/**
 * namespacePath undoes mountView: what a runtime working in that namespace must be given
 * (its mount(2) calls cannot take a path that crosses into another namespace). Paths that
 * are no view are ours, and mean the same there: that namespace is a copy of ours made
 * when its helper started, a slave of it (where our mounts propagate, later ones reach it).
 */
export function namespacePath(p: string): NamespacePath {
  const m = VIEW.exec(p);
  return m ? { path: m[2]!, pid: Number(m[1]) } : { path: p };
}

/** MountInfo is one line of /proc/self/mountinfo. */
export interface MountInfo {
  id: number;
  parent: number;
  mountPoint: string;
  fsType: string;
  source: string;
}

/**
 * listMounts parses the mountinfo of process pid (default: ours), octal escapes in paths
 * decoded. Mount points are as that process's namespace sees them.
 */
export async function listMounts(pid: number | 'self' = 'self'): Promise<MountInfo[]> {
  const text = await readFile(`/proc/${pid}/mountinfo`, 'utf8');
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [pre, post] = line.split(' - ');
    const f = pre!.split(' ');
    const g = (post ?? '').split(' ');
    out.push({ id: Number(f[0]), parent: Number(f[1]), mountPoint: unescape(f[4]!), fsType: g[0] ?? '', source: unescape(g[1] ?? '') });
  }
  return out;
}

/** isMountPoint tells whether path is currently a mount point in the namespace our mounts live in (see mountView). */
export async function isMountPoint(path: string): Promise<boolean> {
  return (await listMounts(mountNamespacePid() ?? 'self')).some((m) => m.mountPoint === path);
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
