/**
 * Docker's default seccomp profile (moby profiles/seccomp, as BuildKit applies it to every
 * RUN), written as typed data: the default action, the allowlist, the argument rules and
 * the groups that depend on the container's capabilities, the host's architecture or its
 * kernel. `resolveProfile` (seccomp.ts) turns it into the rules of one container; the
 * runtime-spec object for runc and the BPF program of the perl launcher both come from
 * that one result. Only what applies on our hosts (x86-64, arm64) is written down.
 */

/** SeccompOp is a runtime-spec argument comparison (libseccomp's SCMP_CMP_*). */
export type SeccompOp = 'SCMP_CMP_EQ' | 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_GT' | 'SCMP_CMP_GE' | 'SCMP_CMP_MASKED_EQ';

/** SeccompArg compares argument `index`; for MASKED_EQ, `value` is the mask and `valueTwo` the datum. */
export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOp;
}

/** SeccompAction is what a matching call gets: allowed, or refused with an errno. */
export type SeccompAction = { allow: true } | { errno: number };

/** GroupFilter limits a group to containers with all `caps`, hosts of one of `arches`, kernels from `minKernel` on. */
export interface GroupFilter {
  caps?: readonly string[];
  /** Go architecture names of the host (amd64, arm64), as moby writes them. */
  arches?: readonly string[];
  minKernel?: readonly [number, number];
}

/** SyscallGroup is one rule: these calls get `action` (when `args` all match), subject to includes/excludes. */
export interface SyscallGroup {
  names: readonly string[];
  action: SeccompAction;
  args?: readonly SeccompArg[];
  /** The group applies only when every condition holds. */
  includes?: GroupFilter;
  /** The group is left out when any condition holds (a cap the container has, its arch, a newer kernel). */
  excludes?: GroupFilter;
}

/** SeccompProfile is a whole profile: calls that no group names get `defaultErrno`. */
export interface SeccompProfile {
  defaultErrno: number;
  /** By host architecture (Go name): the runtime-spec architectures the filter covers (native first). */
  archMap: Readonly<Record<string, readonly SeccompArchName[]>>;
  syscalls: readonly SyscallGroup[];
}

/** SeccompArchName is a runtime-spec architecture. */
export type SeccompArchName = 'SCMP_ARCH_X86_64' | 'SCMP_ARCH_X86' | 'SCMP_ARCH_X32' | 'SCMP_ARCH_AARCH64' | 'SCMP_ARCH_ARM';

const EPERM = 1;
const ENOSYS = 38;
const ALLOW: SeccompAction = { allow: true };

/** CLONE_NEW{NS,UTS,IPC,USER,PID,NET,CGROUP}: clone(2) may create none of them without CAP_SYS_ADMIN. */
const CLONE_NAMESPACES = 0x00020000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x02000000;
const AF_ALG = 38;
const AF_VSOCK = 40;

/** The calls every container may make, whatever its capabilities. */
const ALLOWED = `
accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3
epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old
eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate
fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr
flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate
ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv futex_wake futimesat getcpu getcwd
getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer
getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid
getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid
gettimeofday getuid getuid32 getxattr getxattrat inotify_add_watch inotify_init inotify_init1
inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get
ioprio_set io_setup io_submit ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self
lchown lchown32 lgetxattr link linkat listen listmount listxattr listxattrat llistxattr _llseek
lremovexattr lseek lsetxattr lstat lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret
mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify
mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap mseal
msgctl msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat
_newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free
pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6
pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg
recvmmsg_time64 recvmsg remap_file_pages removexattr removexattrat rename renameat renameat2
restart_syscall riscv_hwprobe rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity
sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler
sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send
sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32
setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area
set_tid_address setuid setuid32 setxattr setxattrat shmat shmctl shmdt shmget shutdown sigaltstack
signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64
statmount statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create
timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create
timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64
ugetrlimit umask uname unlink unlinkat uretprobe utime utimensat utimensat_time64 utimes vfork vmsplice
wait4 waitid waitpid write writev`;

const words = (s: string): string[] => s.trim().split(/\s+/);
const withCap = (cap: string, names: string): SyscallGroup => ({ names: words(names), action: ALLOW, includes: { caps: [cap] } });

/** DEFAULT_PROFILE is Docker's default seccomp profile (moby, 2026) for x86-64 and arm64 hosts. */
export const DEFAULT_PROFILE: SeccompProfile = {
  defaultErrno: EPERM,
  archMap: {
    amd64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
  },
  syscalls: [
    { names: words(ALLOWED), action: ALLOW },
    { names: ['process_vm_readv', 'process_vm_writev', 'ptrace'], action: ALLOW, includes: { minKernel: [4, 8] } },
    // socket(2) of every family but AF_ALG (38) and AF_VSOCK (40).
    { names: ['socket'], action: ALLOW, args: [{ index: 0, value: AF_ALG, op: 'SCMP_CMP_LT' }] },
    { names: ['socket'], action: ALLOW, args: [{ index: 0, value: AF_ALG + 1, op: 'SCMP_CMP_EQ' }] },
    { names: ['socket'], action: ALLOW, args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_GT' }] },
    // personality(2): PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query 0xffffffff.
    ...[0x0, 0x0008, 0x20000, 0x20008, 0xffffffff].map((v): SyscallGroup => ({ names: ['personality'], action: ALLOW, args: [{ index: 0, value: v, op: 'SCMP_CMP_EQ' }] })),
    { names: words('arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls'), action: ALLOW, includes: { arches: ['arm', 'arm64'] } },
    { names: ['arch_prctl'], action: ALLOW, includes: { arches: ['amd64', 'x32'] } },
    { names: ['modify_ldt'], action: ALLOW, includes: { arches: ['amd64', 'x32', 'x86'] } },
    withCap('CAP_DAC_READ_SEARCH', 'open_by_handle_at'),
    withCap('CAP_SYS_ADMIN', `bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie lsm_get_self_attr
      lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd
      setdomainname sethostname setns syslog umount umount2 unshare`),
    // Without CAP_SYS_ADMIN: clone(2) creating no namespace; clone3 (whose flags sit in memory) says ENOSYS, so libc falls back to clone.
    { names: ['clone'], action: ALLOW, args: [{ index: 0, value: CLONE_NAMESPACES, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }], excludes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['clone3'], action: { errno: ENOSYS }, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    withCap('CAP_SYS_BOOT', 'reboot'),
    withCap('CAP_SYS_CHROOT', 'chroot'),
    withCap('CAP_SYS_MODULE', 'delete_module init_module finit_module'),
    withCap('CAP_SYS_PACCT', 'acct'),
    withCap('CAP_SYS_PTRACE', 'kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace'),
    withCap('CAP_SYS_RAWIO', 'iopl ioperm'),
    withCap('CAP_SYS_TIME', 'settimeofday stime clock_settime clock_settime64'),
    withCap('CAP_SYS_TTY_CONFIG', 'vhangup'),
    withCap('CAP_SYS_NICE', 'get_mempolicy mbind set_mempolicy set_mempolicy_home_node'),
    withCap('CAP_SYSLOG', 'syslog'),
    withCap('CAP_BPF', 'bpf'),
    withCap('CAP_PERFMON', 'perf_event_open'),
  ],
};
