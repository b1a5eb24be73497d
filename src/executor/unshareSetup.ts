import type { HostTools } from '../sys/unshare.ts';
import { DEFAULT_CAPABILITIES } from './security.ts';

/** FstabEntry is one mount the unshare executor makes inside the container's mount namespace. */
export interface FstabEntry {
  source: string;
  /** Absolute host path, already resolved (no symlinks), under the container's root bind. */
  target: string;
  type: string;
  options: string[];
}

/** fstabField escapes a field the way fstab(5)/libmount reads it back (octal for blanks and backslash). */
export function fstabField(s: string): string {
  return s.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** fstab renders the entries for `mount --all --fstab FILE`, which mounts them in order. */
export function fstab(entries: readonly FstabEntry[]): string {
  return entries.map((e) => `${fstabField(e.source)} ${fstabField(e.target)} ${e.type} ${e.options.length ? e.options.join(',') : 'defaults'} 0 0\n`).join('');
}

/**
 * SETUP_SCRIPT runs on the host's /bin/sh as the new pid namespace's init, before the
 * root switch: it mounts the fstab, sets the hostname, brings lo up when asked, then
 * execs the rest of its arguments (the privilege-dropping chain). Errors go to
 * setup.err and leave setup.failed, so they are told apart from the command's own.
 * Arguments: stateDir, mount binary, hostname, ip binary or "".
 */
export const SETUP_SCRIPT = [
  's=$1',
  'fail() { : > "$s/setup.failed"; exit 125; }',
  // --no-canonicalize: targets are already resolved (secureJoin), and it saves ~200 syscalls.
  '"$2" --all --no-canonicalize --fstab "$s/fstab" 2>>"$s/setup.err" || fail',
  'printf %s "$3" 2>>"$s/setup.err" > /proc/sys/kernel/hostname || fail',
  'if [ -n "$4" ]; then "$4" link set lo up 2>>"$s/setup.err" || fail; fi',
  'shift 4',
  'exec "$@"',
].join('\n');

/** UnshareInvocation is what one run needs beyond the host tools. */
export interface UnshareInvocation {
  stateDir: string;
  /** The directory the command is chrooted into (the root bind made by the fstab). */
  root: string;
  hostname: string;
  network: 'host' | 'none';
  uid: number;
  gid: number;
  additionalGids: readonly number[];
  /** KEY=VALUE, exactly the container's environment. */
  env: readonly string[];
  cwd: string;
  args: readonly string[];
}

/** boundingSet is setpriv's syntax for Docker's default capabilities: `-all,+chown,...`. */
export function boundingSet(caps: readonly string[] = DEFAULT_CAPABILITIES): string {
  return ['-all', ...caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)].join(',');
}

/**
 * unshareArgv builds the whole host command line, one exec after another:
 * setpriv (dies with tsbuild) → unshare (new namespaces, fork: the child is pid 1) → sh (mounts, hostname) →
 * setpriv (capability bounding set, gid, groups) → env -i (exactly the container's
 * environment) → unshare (chroot, chdir, setuid) → the command, looked up in the
 * container's PATH. Only host binaries run before the root switch, none from the image.
 */
export function unshareArgv(t: HostTools, r: UnshareInvocation): string[] {
  const ns = ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--uts', '--ipc'];
  if (r.network === 'none') ns.push('--net');
  const groups = r.additionalGids.length > 0 ? ['--groups', r.additionalGids.join(',')] : ['--clear-groups'];
  const ip = r.network === 'none' && t.ip ? t.ip : '';
  return [
    // If tsbuild itself is killed (SIGKILL: no cleanup runs), unshare gets SIGKILL too, and its
    // --kill-child takes the namespace's init, so the whole container, along. The kernel drops
    // init's death signal when its credentials change, so a step run as another user outlives a
    // SIGKILLed tsbuild until it ends (the next build still unmounts what it held).
    t.setpriv, '--pdeathsig', 'KILL', '--',
    t.unshare, ...ns, '--',
    t.sh, '-c', SETUP_SCRIPT, 'tsbuild-init', r.stateDir, t.mount, r.hostname, ip,
    t.setpriv, '--bounding-set', boundingSet(), '--regid', String(r.gid), ...groups, '--',
    t.env, '-i', '--', ...r.env,
    t.unshare, '--root', r.root, '--wd', r.cwd, ...(r.uid !== 0 ? ['--setuid', String(r.uid)] : []), '--',
    ...r.args,
  ];
}

/** MS_* flags of mount(2) that fstab options set (`ro`) or clear (`rw`). */
const MS = { RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, DIRSYNC: 128, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, REC: 16384, RELATIME: 1 << 21, STRICTATIME: 1 << 24 } as const;
const SET: Readonly<Record<string, number>> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, sync: MS.SYNCHRONOUS, dirsync: MS.DIRSYNC,
  noatime: MS.NOATIME, nodiratime: MS.NODIRATIME, relatime: MS.RELATIME, strictatime: MS.STRICTATIME,
};
const CLEAR: ReadonlySet<string> = new Set(['rw', 'suid', 'dev', 'exec', 'async', 'atime', 'diratime', 'norelatime', 'nostrictatime', 'defaults']);

/** RawMount is one mount(2) call: an empty source, type or data is NULL. */
export interface RawMount {
  source: string;
  target: string;
  type: string;
  flags: number;
  data: string;
}

/**
 * mountCalls turns fstab entries into the mount(2) calls mount(8) makes for them:
 * flag options become MS_* bits, the rest the data string; a bind is made first and,
 * when it asks for flags, remounted with them (a bind takes no flags of its own).
 */
export function mountCalls(entries: readonly FstabEntry[]): RawMount[] {
  const out: RawMount[] = [];
  for (const e of entries) {
    let flags = 0;
    let bind = 0;
    const data: string[] = [];
    for (const o of e.options) {
      if (o === 'bind') bind = MS.BIND;
      else if (o === 'rbind') bind = MS.BIND | MS.REC;
      else if (SET[o] !== undefined) flags |= SET[o];
      else if (!CLEAR.has(o)) data.push(o);
    }
    if (!bind) {
      out.push({ source: e.source, target: e.target, type: e.type, flags, data: data.join(',') });
      continue;
    }
    out.push({ source: e.source, target: e.target, type: '', flags: bind, data: '' });
    if (flags) out.push({ source: '', target: e.target, type: '', flags: MS.REMOUNT | MS.BIND | flags, data: '' });
  }
  return out;
}
