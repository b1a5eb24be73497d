import { DEFAULT_CAPABILITIES } from './security.ts';

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
