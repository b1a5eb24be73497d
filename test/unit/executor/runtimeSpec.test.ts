import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { buildRuntimeSpec } from '../../../src/executor/runtimeSpec.ts';
import { currentCapabilities, DEFAULT_CAPABILITIES } from '../../../src/executor/security.ts';
import type { RunSpec } from '../../../src/executor/types.ts';

const files = { resolvConf: '/etc/resolv.conf', hosts: '/state/hosts', hostname: '/state/hostname' };
const spec = (over: Partial<RunSpec> = {}): RunSpec => ({
  id: 'c1', rootfs: '/merged', network: 'host', stateDir: '/state', stdout: 'inherit', stderr: 'inherit',
  process: { args: ['/bin/sh', '-c', 'true'], env: ['PATH=/bin'], cwd: '/app', uid: 1000, gid: 1000 },
  ...over,
});

describe('buildRuntimeSpec', () => {
  test('root is the writable merged dir; process as given', () => {
    const c = buildRuntimeSpec(spec(), files, false);
    expect(c.root).toEqual({ path: '/merged', readonly: false });
    expect(c.process).toMatchObject({ terminal: false, args: ['/bin/sh', '-c', 'true'], env: ['PATH=/bin'], cwd: '/app', user: { uid: 1000, gid: 1000 }, noNewPrivileges: false });
    // runc calls setgroups(additionalGids): an absent list means none.
    expect(c.process.user.additionalGids).toBeUndefined();
    expect(buildRuntimeSpec(spec({ process: { ...spec().process, additionalGids: [50] } }), files, false).process.user.additionalGids).toEqual([50]);
  });

  test("Docker's 14 default capabilities, never inheritable or ambient", () => {
    const caps = buildRuntimeSpec(spec(), files, false).process.capabilities;
    expect(DEFAULT_CAPABILITIES).toHaveLength(14);
    expect(caps).toEqual({ bounding: [...DEFAULT_CAPABILITIES], effective: [...DEFAULT_CAPABILITIES], permitted: [...DEFAULT_CAPABILITIES] });
  });

  test("Docker's seccomp profile for Docker's capabilities", () => {
    const l = buildRuntimeSpec(spec(), files, false).linux;
    expect(l.seccomp).toMatchObject({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1 });
    expect(l.seccomp!.syscalls.flatMap((r) => r.names)).not.toContain('mount');
  });

  test('insecure: every current capability in all five sets, no seccomp, nothing hidden, /sys writable, every device', () => {
    const c = buildRuntimeSpec(spec({ security: 'insecure' }), files, false);
    const all = currentCapabilities(readFileSync('/proc/self/status', 'utf8'));
    expect(all.length).toBeGreaterThan(0);
    expect(c.process.capabilities).toEqual({ bounding: all, effective: all, permitted: all, inheritable: all, ambient: all });
    expect(c.linux.seccomp).toBeUndefined();
    expect([c.linux.maskedPaths, c.linux.readonlyPaths]).toEqual([[], []]);
    expect(c.mounts.find((m) => m.destination === '/sys')!.options).not.toContain('ro');
    expect(c.linux.resources.devices).toEqual([{ allow: true, type: 'c', access: 'rwm' }, { allow: true, type: 'b', access: 'rwm' }]);
  });

  test('currentCapabilities reads CapEff by kernel number', () => {
    expect(currentCapabilities('CapInh:\t0000000000000000\nCapEff:\t00000000a80425fb\n').sort()).toEqual([...DEFAULT_CAPABILITIES].sort());
    expect(currentCapabilities('CapEff:\t0000000000200000\n')).toEqual(['CAP_SYS_ADMIN']);
  });

  test.each([
    ['host', ['pid', 'mount', 'ipc', 'uts']],
    ['none', ['pid', 'mount', 'ipc', 'uts', 'network']],
  ] as const)('network=%s → namespaces %j', (network, types) => {
    expect(buildRuntimeSpec(spec({ network }), files, false).linux.namespaces.map((n) => n.type)).toEqual(types);
  });

  test("masked and read-only paths are Docker's current defaults, with this host's per-CPU thermal_throttle dirs; no noPivotRoot", () => {
    const { linux, root } = buildRuntimeSpec(spec(), files, false);
    const throttle = readdirSync('/sys/devices/system/cpu').filter((n) => /^cpu\d+$/.test(n))
      .map((n) => `/sys/devices/system/cpu/${n}/thermal_throttle`).filter((p) => existsSync(p));
    expect(linux.maskedPaths).toEqual([
      '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
      '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap', ...throttle,
    ]);
    expect(linux.readonlyPaths).toEqual(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
    expect(Object.keys(root)).toEqual(['path', 'readonly']);
  });

  test('hostname is the id unless given', () => {
    expect(buildRuntimeSpec(spec(), files, false).hostname).toBe('c1');
    expect(buildRuntimeSpec(spec({ hostname: 'h' }), files, false).hostname).toBe('h');
  });

  test('system mounts in order, read-only name files, then the run\'s own mounts', () => {
    const c = buildRuntimeSpec(spec({ mounts: [{ destination: '/cache', type: 'bind', source: '/host/cache', options: ['rbind'] }] }), files, false);
    expect(c.mounts.map((m) => m.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/etc/resolv.conf', '/etc/hosts', '/etc/hostname', '/cache']);
    for (const m of c.mounts.filter((m) => m.destination.startsWith('/etc/'))) expect(m.options).toContain('ro');
    expect(c.mounts.find((m) => m.destination === '/etc/hosts')!.source).toBe('/state/hosts');
    expect(c.mounts.find((m) => m.destination === '/sys')!.options).toEqual(expect.arrayContaining(['ro', 'nosuid', 'noexec', 'nodev']));
    expect(c.mounts.find((m) => m.destination === '/dev/pts')!.options).toEqual(expect.arrayContaining(['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']));
  });

  test('devices: deny all, allow mknod; runc adds its default nodes', () => {
    expect(buildRuntimeSpec(spec(), files, false).linux.resources.devices[0]).toEqual({ allow: false, access: 'rwm' });
  });

  test('the spec is a copy: later changes to the RunSpec do not leak in', () => {
    const s = spec();
    const c = buildRuntimeSpec(s, files, false);
    s.process.args.push('x');
    expect(c.process.args).toHaveLength(3);
  });
});
