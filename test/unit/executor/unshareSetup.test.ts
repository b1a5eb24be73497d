import { describe, expect, test } from 'vitest';
import { mountCalls } from '../../../src/executor/unshareSetup.ts';
import { capabilityNumbers } from '../../../src/executor/security.ts';
import { hostsFile } from '../../../src/executor/containerFiles.ts';

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
