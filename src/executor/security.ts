import { readdirSync, readFileSync, statSync } from 'node:fs';
import { TsbuildError } from '../core/errors.ts';
import { compileBpf } from './seccompBpf.ts';
import { resolveProfile, seccompSupported, type ResolvedSeccomp } from './seccomp.ts';

/** SecurityMode is RUN --security: Docker's sandbox, or BuildKit's privileged `insecure` (entitlement security.insecure). */
export type SecurityMode = 'sandbox' | 'insecure';

/**
 * DEFAULT_CAPABILITIES is Docker's default capability set (moby oci/caps/defaults.go),
 * given as bounding, effective and permitted; never inheritable or ambient (CVE-2022-24769).
 */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/**
 * MASKED_PATHS are hidden from the container (Docker's defaults, moby oci/defaults.go, with
 * /proc/interrupts since moby#49560): /dev/null over files, an empty read-only tmpfs over dirs.
 * maskedPaths() adds the per-CPU thermal_throttle dirs of this host.
 */
export const MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

let hostMasked: readonly string[] | undefined;

/**
 * maskedPaths is MASKED_PATHS plus /sys/devices/system/cpu/cpuN/thermal_throttle for each
 * CPU of this host that has one (Docker masks them too: a thermal side channel). Read once.
 */
export function maskedPaths(): readonly string[] {
  if (hostMasked) return hostMasked;
  const cpus = '/sys/devices/system/cpu';
  let names: string[] = [];
  try {
    names = readdirSync(cpus).filter((n) => /^cpu\d+$/.test(n));
  } catch { /* no sysfs: nothing more to mask */ }
  const throttle = names.map((n) => `${cpus}/${n}/thermal_throttle`).filter((p) => statSync(p, { throwIfNoEntry: false }) !== undefined);
  hostMasked = [...MASKED_PATHS, ...throttle];
  return hostMasked;
}

/** READONLY_PATHS are remounted read-only in the container (Docker's defaults). */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

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

/** ContainerSecurity is what a container may do, the same on every executor. */
export interface ContainerSecurity {
  mode: SecurityMode;
  /** The bounding, effective and permitted sets (a non-root process loses the latter two at exec). */
  capabilities: readonly string[];
  /** The inheritable and ambient sets. */
  ambient: readonly string[];
  /** The seccomp profile; undefined: none. */
  seccomp: ResolvedSeccomp | undefined;
  maskedPaths: readonly string[];
  readonlyPaths: readonly string[];
  /** /sys (and runc's /sys/fs/cgroup) writable and every device allowed by the device cgroup. */
  privileged: boolean;
  /** Host device nodes added to the container's /dev. */
  devices: readonly HostDevice[];
}

/** HostDevice is a host device node given to a container at the same path. */
export interface HostDevice {
  /** Absolute, under /dev. */
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  /** Permission bits of the host's node. */
  mode: number;
}

/** INSECURE_DEVICES are the nodes BuildKit adds in insecure mode (with /dev/loopN), those the host has. */
const INSECURE_DEVICES = ['/dev/kmsg', '/dev/cuse', '/dev/fuse', '/dev/kvm', '/dev/net/tun', '/dev/loop-control'];

const cached = new Map<SecurityMode, ContainerSecurity>();
const programs = new Map<SecurityMode, Buffer | undefined>();

/**
 * containerSecurity gives a mode's settings. `sandbox` is what BuildKit gives a RUN:
 * Docker's capabilities, never inheritable or ambient, Docker's seccomp profile resolved
 * for them, masked and read-only paths. `insecure` is BuildKit's: every capability this
 * process has (our effective set, as containerd's WithAllCurrentCapabilities) in all
 * five sets, no seccomp, no masked or read-only paths, /sys writable, all devices.
 */
export function containerSecurity(mode: SecurityMode = 'sandbox'): ContainerSecurity {
  let s = cached.get(mode);
  if (s) return s;
  if (mode === 'insecure') {
    const all = currentCapabilities(readFileSync('/proc/self/status', 'utf8'));
    s = { mode, capabilities: all, ambient: all, seccomp: undefined, maskedPaths: [], readonlyPaths: [], privileged: true, devices: hostDevices() };
  } else {
    if (!seccompSupported()) throw new TsbuildError('RUNTIME', `no seccomp profile for architecture ${process.arch}`, { hint: 'build steps run on x86-64 and arm64 hosts' });
    const seccomp = resolveProfile({ capabilities: DEFAULT_CAPABILITIES });
    s = { mode, capabilities: DEFAULT_CAPABILITIES, ambient: [], seccomp, maskedPaths: maskedPaths(), readonlyPaths: READONLY_PATHS, privileged: false, devices: [] };
  }
  cached.set(mode, s);
  return s;
}

/** seccompProgram is the mode's profile compiled to classic BPF (once a process); undefined without a profile. */
export function seccompProgram(mode: SecurityMode = 'sandbox'): Buffer | undefined {
  if (!programs.has(mode)) {
    const p = containerSecurity(mode).seccomp;
    programs.set(mode, p && compileBpf(p));
  }
  return programs.get(mode);
}

/**
 * hostDevices lists the nodes of INSECURE_DEVICES and the loop devices that this host
 * has. BuildKit also adds nodes the host lacks (runc then makes them, unusable); we give
 * both executors only what exists, since the perl launcher binds the host's nodes.
 */
function hostDevices(): HostDevice[] {
  const loops = readdirSync('/dev').filter((n) => /^loop\d+$/.test(n)).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
  const out: HostDevice[] = [];
  for (const path of [...INSECURE_DEVICES, ...loops.map((n) => `/dev/${n}`)]) {
    const st = statSync(path, { throwIfNoEntry: false, bigint: true });
    if (!st || !(st.isCharacterDevice() || st.isBlockDevice())) continue;
    // dev_t as glibc's gnu_dev_major/gnu_dev_minor split it.
    const major = Number(((st.rdev >> 8n) & 0xfffn) | ((st.rdev >> 32n) & ~0xfffn));
    const minor = Number((st.rdev & 0xffn) | ((st.rdev >> 12n) & ~0xffn));
    out.push({ path, type: st.isCharacterDevice() ? 'c' : 'b', major, minor, mode: Number(st.mode & 0o777n) });
  }
  return out;
}

/** currentCapabilities names the capabilities of a CapEff line of /proc/PID/status (those the kernel numbers we know). */
export function currentCapabilities(status: string): string[] {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  const bits = BigInt(`0x${m?.[1] ?? '0'}`);
  return Object.entries(CAPABILITY_NUMBERS).filter(([, n]) => (bits >> BigInt(n)) & 1n).map(([name]) => name);
}
