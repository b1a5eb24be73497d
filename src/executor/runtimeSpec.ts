import type { RunSpec } from './types.ts';
import { containerSecurity } from './security.ts';
import { runtimeSeccomp, type RuntimeSeccomp } from './seccomp.ts';

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
    capabilities: { bounding: string[]; effective: string[]; permitted: string[]; inheritable?: string[]; ambient?: string[] };
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
    seccomp?: RuntimeSeccomp;
    devices?: { path: string; type: string; major: number; minor: number; fileMode: number; uid: number; gid: number }[];
  };
}

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
export function systemMounts(files: ContainerFiles, privileged = false): RuntimeMount[] {
  const sys = privileged ? ['nosuid', 'noexec', 'nodev'] : ['nosuid', 'noexec', 'nodev', 'ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sys },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...sys, 'relatime'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: files.resolvConf, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] },
    { destination: '/etc/hosts', type: 'bind', source: files.hosts, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] },
    { destination: '/etc/hostname', type: 'bind', source: files.hostname, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] },
  ];
}

/** allMounts is systemMounts (for the run's security mode) followed by the run's own mounts (which may cover system ones). */
export function allMounts(spec: RunSpec, files: ContainerFiles): RuntimeMount[] {
  const { privileged } = containerSecurity(spec.security);
  const own = (spec.mounts ?? []).map((m) => ({ destination: m.destination, type: m.type, source: m.source, options: [...m.options] }));
  return [...systemMounts(files, privileged), ...own];
}

/**
 * buildRuntimeSpec maps a RunSpec onto an OCI runtime config. The root is the
 * writable merged dir, which runc enters with pivot_root (no `noPivotRoot`); namespaces pid, mount, ipc, uts, plus network only for
 * network=none (host networking otherwise, so package managers work). Capabilities,
 * seccomp profile and hidden paths are the security mode's (containerSecurity). Device
 * access is Docker's: deny all, mknod of any device allowed, runc adds its default
 * devices; insecure mode allows every device, as BuildKit's.
 */
export function buildRuntimeSpec(spec: RunSpec, files: ContainerFiles, terminal: boolean): RuntimeSpec {
  const p = spec.process;
  const sec = containerSecurity(spec.security);
  const caps = [...sec.capabilities];
  const ambient = sec.ambient.length ? { inheritable: [...sec.ambient], ambient: [...sec.ambient] } : {};
  const devices = sec.privileged
    ? [{ allow: true, type: 'c', access: 'rwm' }, { allow: true, type: 'b', access: 'rwm' }]
    : [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', access: 'm' }, { allow: true, type: 'b', access: 'm' }];
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
      capabilities: { bounding: caps, effective: caps, permitted: caps, ...ambient },
      noNewPrivileges: false,
    },
    root: { path: spec.rootfs, readonly: false },
    hostname: spec.hostname ?? spec.id,
    mounts: allMounts(spec, files),
    linux: {
      namespaces,
      resources: { devices },
      maskedPaths: [...sec.maskedPaths],
      readonlyPaths: [...sec.readonlyPaths],
      ...(sec.seccomp ? { seccomp: runtimeSeccomp(sec.seccomp) } : {}),
      ...(sec.devices.length ? { devices: sec.devices.map((d) => ({ path: d.path, type: d.type, major: d.major, minor: d.minor, fileMode: d.mode, uid: 0, gid: 0 })) } : {}),
    },
  };
}
