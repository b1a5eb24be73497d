import { SYSCALL_TABLES, type SyscallAbi } from './syscallTable.generated.ts';

/** Linux system call numbers the perl helpers call through perl's `syscall`, by Node architecture name. */
export interface SyscallNumbers {
  mount: number;
  umount2: number;
  syncfs: number;
  unshare: number;
  sethostname: number;
  prctl: number;
  setgroups: number;
  setresgid: number;
  setresuid: number;
  mknodat: number;
  setsid: number;
  exitGroup: number;
  pivotRoot: number;
  capget: number;
  capset: number;
}

/** The native ABI of each Node architecture we have a table for. */
const NATIVE: Readonly<Record<string, SyscallAbi>> = { x64: 'x86_64', arm64: 'aarch64' };

/** syscallNumbers gives this machine's numbers (from the generated kernel table), or undefined on an architecture we have no table for. */
export function syscallNumbers(arch: string = process.arch): SyscallNumbers | undefined {
  const abi = NATIVE[arch];
  if (!abi) return undefined;
  const t = SYSCALL_TABLES[abi];
  const n = (name: string): number => {
    const v = t[name];
    if (v === undefined) throw new Error(`no system call ${name} on ${abi}`);
    return v;
  };
  return {
    mount: n('mount'), umount2: n('umount2'), syncfs: n('syncfs'), unshare: n('unshare'), sethostname: n('sethostname'), prctl: n('prctl'),
    setgroups: n('setgroups'), setresgid: n('setresgid'), setresuid: n('setresuid'), mknodat: n('mknodat'), setsid: n('setsid'),
    exitGroup: n('exit_group'), pivotRoot: n('pivot_root'), capget: n('capget'), capset: n('capset'),
  };
}
