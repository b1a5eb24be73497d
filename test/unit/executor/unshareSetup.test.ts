import { describe, expect, test } from 'vitest';
import { boundingSet, fstab, fstabField, unshareArgv, mountCalls } from '../../../src/executor/unshareSetup.ts';
import { capabilityNumbers } from '../../../src/executor/security.ts';
import { hostsFile } from '../../../src/executor/containerFiles.ts';

const tools = { unshare: '/usr/bin/unshare', setpriv: '/usr/bin/setpriv', mount: '/usr/bin/mount', env: '/usr/bin/env', sh: '/bin/sh', ip: '/usr/sbin/ip' };
const inv = {
  stateDir: '/s', root: '/s/root', hostname: 'h', network: 'host' as const, uid: 1000, gid: 100, additionalGids: [50, 60],
  env: ['PATH=/bin', '-X=1'], cwd: '/w', args: ['/bin/sh', '-c', 'echo hi'],
};

test('fstabField escapes blanks and backslashes as octal', () => {
  expect(fstabField('/a b\tc\\d\ne')).toBe('/a\\040b\\011c\\134d\\012e');
});

test('fstab renders one line per entry, defaults for no options', () => {
  expect(fstab([{ source: 'proc', target: '/r/proc', type: 'proc', options: ['nosuid'] }, { source: '/x y', target: '/r/x', type: 'none', options: [] }]))
    .toBe('proc /r/proc proc nosuid 0 0\n/x\\040y /r/x none defaults 0 0\n');
});

test("boundingSet is setpriv's form of Docker's capabilities", () => {
  expect(boundingSet(['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'])).toBe('-all,+chown,+net_bind_service');
  expect(boundingSet().split(',')).toHaveLength(15);
});

describe('unshareArgv', () => {
  test('namespaces, then the host-only chain, then the command', () => {
    const a = unshareArgv(tools, inv);
    expect(a.slice(0, 4)).toEqual(['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--']);
    expect(a.slice(4, 14)).toEqual(['/usr/bin/unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--uts', '--ipc', '--']);
    const setpriv = a.indexOf('/usr/bin/setpriv', 4);
    // sh gets: script name, stateDir, mount, hostname, ip ("" on host network)
    expect(a.slice(setpriv - 5, setpriv)).toEqual(['tsbuild-init', '/s', '/usr/bin/mount', 'h', '']);
    expect(a.slice(setpriv, setpriv + 8)).toEqual(['/usr/bin/setpriv', '--bounding-set', boundingSet(), '--regid', '100', '--groups', '50,60', '--']);
    // env -i -- keeps even odd names from being read as options
    expect(a.slice(setpriv + 8, setpriv + 13)).toEqual(['/usr/bin/env', '-i', '--', 'PATH=/bin', '-X=1']);
    expect(a.slice(setpriv + 13)).toEqual(['/usr/bin/unshare', '--root', '/s/root', '--wd', '/w', '--setuid', '1000', '--', '/bin/sh', '-c', 'echo hi']);
  });
  test('network none adds --net and brings lo up; root needs no setuid; no groups clears them', () => {
    const a = unshareArgv(tools, { ...inv, network: 'none', uid: 0, additionalGids: [] });
    expect(a.slice(4, 15)).toContain('--net');
    expect(a).toContain('/usr/sbin/ip');
    expect(a).toContain('--clear-groups');
    expect(a).not.toContain('--setuid');
  });
});

test('hostsFile maps the hostname to loopback', () => {
  expect(hostsFile('box').split('\n')[0]).toBe('127.0.0.1\tlocalhost box');
});

describe('mountCalls', () => {
  test('flag options become MS_* bits and the rest the data string', () => {
    expect(mountCalls([
      { source: 'tmpfs', target: '/r/dev/shm', type: 'tmpfs', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { source: 'sysfs', target: '/r/sys', type: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro', 'rw', 'defaults'] },
      { source: 'devpts', target: '/r/dev/pts', type: 'devpts', options: ['strictatime', 'newinstance', 'ptmxmode=0666'] },
    ])).toEqual([
      { source: 'tmpfs', target: '/r/dev/shm', type: 'tmpfs', flags: 2 | 8 | 4, data: 'mode=1777,size=65536k' },
      { source: 'sysfs', target: '/r/sys', type: 'sysfs', flags: 2 | 8 | 4 | 1, data: '' },
      { source: 'devpts', target: '/r/dev/pts', type: 'devpts', flags: 1 << 24, data: 'newinstance,ptmxmode=0666' },
    ]);
  });

  test('a bind is made, then remounted with its flags; rbind is recursive; a plain bind is one call', () => {
    expect(mountCalls([
      { source: '/h/resolv', target: '/r/etc/resolv.conf', type: 'none', options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] },
      { source: '/dev/null', target: '/r/dev/null', type: 'none', options: ['bind'] },
    ])).toEqual([
      { source: '/h/resolv', target: '/r/etc/resolv.conf', type: '', flags: 4096 | 16384, data: '' },
      { source: '', target: '/r/etc/resolv.conf', type: '', flags: 32 | 4096 | 1 | 2 | 4 | 8, data: '' },
      { source: '/dev/null', target: '/r/dev/null', type: '', flags: 4096, data: '' },
    ]);
  });
});

test("capabilityNumbers are the kernel's, and Docker's default set is CapBnd 00000000a80425fb", () => {
  expect(capabilityNumbers(['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_CHECKPOINT_RESTORE'])).toEqual([0, 21, 40]);
  expect(capabilityNumbers().reduce((m, n) => m | (1n << BigInt(n)), 0n).toString(16)).toBe('a80425fb');
  expect(() => capabilityNumbers(['CAP_NOPE'])).toThrow('unknown capability CAP_NOPE');
});
