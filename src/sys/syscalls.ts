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
}

const TABLE: Readonly<Record<string, SyscallNumbers>> = {
  // arch/x86/entry/syscalls/syscall_64.tbl
  x64: { mount: 165, umount2: 166, syncfs: 306, unshare: 272, sethostname: 170, prctl: 157, setgroups: 116, setresgid: 119, setresuid: 117, mknodat: 259, setsid: 112, exitGroup: 231, pivotRoot: 155 },
  // include/uapi/asm-generic/unistd.h
  arm64: { mount: 40, umount2: 39, syncfs: 267, unshare: 97, sethostname: 161, prctl: 167, setgroups: 159, setresgid: 149, setresuid: 147, mknodat: 33, setsid: 157, exitGroup: 94, pivotRoot: 41 },
};

/** syscallNumbers gives this machine's numbers, or undefined on an architecture we have no table for. */
export function syscallNumbers(arch: string = process.arch): SyscallNumbers | undefined {
  return TABLE[arch];
}
