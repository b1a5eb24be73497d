import { DEFAULT_CAPABILITIES } from './runtimeSpec.ts';

/** FstabEntry is one mount the unshare executor makes inside the container's mount namespace, in fstab(5)'s terms. */
export interface FstabEntry {
  source: string;
  /** Absolute host path, already resolved (no symlinks), under the container's root bind. */
  target: string;
  type: string;
  options: string[];
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
 * mountCalls turns fstab entries into the mount(2) calls mount(8) would make for them:
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

/** CAPABILITY_NUMBERS are the kernel's numbers of the capabilities (linux/capability.h). */
export const CAPABILITY_NUMBERS: Readonly<Record<string, number>> = Object.fromEntries([
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
].map((n, i) => [`CAP_${n}`, i]));

/** capabilityNumbers maps capability names (CAP_CHOWN, ...) to their numbers; unknown names throw. */
export function capabilityNumbers(caps: readonly string[] = DEFAULT_CAPABILITIES): number[] {
  return caps.map((c) => {
    const n = CAPABILITY_NUMBERS[c];
    if (n === undefined) throw new Error(`unknown capability ${c}`);
    return n;
  });
}
