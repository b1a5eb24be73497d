import { existsSync, readdirSync } from 'node:fs';
import type { RunSpec } from './types.ts';

/** RuntimeMount is one entry of an OCI runtime-spec config.json `mounts` list. */
export interface RuntimeMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** RuntimeSpec is the subset of the OCI runtime-spec (1.0.2) config.json that we write. */
export interface RuntimeSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: RuntimeMount[];
  linux: {
    namespaces: { type: string }[];
    resources: { devices: { allow: boolean; type?: string; access: string }[] };
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

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
  const throttle = names.map((n) => `${cpus}/${n}/thermal_throttle`).filter((p) => existsSync(p));
  hostMasked = [...MASKED_PATHS, ...throttle];
  return hostMasked;
}

/** READONLY_PATHS are remounted read-only in the container (Docker's defaults). */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** ContainerFiles are the host files bound over the container's /etc/{resolv.conf,hosts,hostname}. */
export interface ContainerFiles {
  resolvConf: string;
  hosts: string;
  hostname: string;
}

/**
 * systemMounts are the mounts every container gets, in mount order (Docker's defaults,
 * plus read-only binds of the per-run name-resolution files). Destinations are absolute.
 */
export function systemMounts(files: ContainerFiles): RuntimeMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: files.resolvConf, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] },
    { destination: '/etc/hosts', type: 'bind', source: files.hosts, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] },
    { destination: '/etc/hostname', type: 'bind', source: files.hostname, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] },
  ];
}

/** allMounts is systemMounts followed by the run's own mounts (which may cover system ones). */
export function allMounts(spec: RunSpec, files: ContainerFiles): RuntimeMount[] {
  const own = (spec.mounts ?? []).map((m) => ({ destination: m.destination, type: m.type, source: m.source, options: [...m.options] }));
  return [...systemMounts(files), ...own];
}

/**
 * buildRuntimeSpec maps a RunSpec onto an OCI runtime config (pure, but for the host's
 * CPUs in maskedPaths). The root is the writable merged dir, which runc enters with
 * pivot_root (no `noPivotRoot`); namespaces pid, mount, ipc, uts, plus network only for
 * network=none (host networking otherwise, so package managers work). Device access
 * is Docker's: deny all, mknod of any device allowed, runc adds its default devices.
 */
export function buildRuntimeSpec(spec: RunSpec, files: ContainerFiles, terminal: boolean): RuntimeSpec {
  const p = spec.process;
  const caps = [...DEFAULT_CAPABILITIES];
  const namespaces = [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }];
  if (spec.network === 'none') namespaces.push({ type: 'network' });
  return {
    ociVersion: '1.0.2',
    process: {
      terminal,
      user: { uid: p.uid, gid: p.gid, ...(p.additionalGids?.length ? { additionalGids: [...p.additionalGids] } : {}) },
      args: [...p.args],
      env: [...p.env],
      cwd: p.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: false,
    },
    root: { path: spec.rootfs, readonly: false },
    hostname: spec.hostname ?? spec.id,
    mounts: allMounts(spec, files),
    linux: {
      namespaces,
      resources: { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', access: 'm' }, { allow: true, type: 'b', access: 'm' }] },
      maskedPaths: [...maskedPaths()],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}
