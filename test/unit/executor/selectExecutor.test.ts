import { describe, expect, test } from 'vitest';
import { chooseExecutor, type HostRuntimes } from '../../../src/executor/selectExecutor.ts';

/** host fakes what the host offers and records which probes ran. */
function host(perl: boolean, runc: boolean): HostRuntimes & { probed: string[] } {
  const probed: string[] = [];
  return {
    probed,
    perl: () => (probed.push('perl'), perl),
    runc: async (bin) => (probed.push(`runc ${bin}`), runc),
  };
}

describe('chooseExecutor', () => {
  test('build steps, auto: the unshare executor where perl is, without probing runc', async () => {
    const h = host(true, true);
    expect(await chooseExecutor({ job: 'build', runtime: 'auto' }, h)).toEqual({ name: 'unshare' });
    expect(h.probed).toEqual(['perl']);
  });

  test('build steps, auto, no perl: runc', async () => {
    expect(await chooseExecutor({ job: 'build', runtime: 'auto' }, host(false, true), '/opt/runc')).toEqual({ name: 'runc', bin: '/opt/runc' });
  });

  test('build steps, auto, neither: one RUNTIME error with a hint', async () => {
    await expect(chooseExecutor({ job: 'build', runtime: 'auto' }, host(false, false))).rejects.toMatchObject({
      code: 'RUNTIME', message: 'no executor for build steps: neither /usr/bin/perl nor runc (runc --version) works here', hint: 'install perl-base or runc',
    });
  });

  test('build steps, unshare or runc insist', async () => {
    expect(await chooseExecutor({ job: 'build', runtime: 'unshare' }, host(true, false))).toEqual({ name: 'unshare' });
    await expect(chooseExecutor({ job: 'build', runtime: 'unshare' }, host(false, true))).rejects.toMatchObject({ code: 'RUNTIME', hint: 'install perl-base, or use --runtime runc' });
    expect(await chooseExecutor({ job: 'build', runtime: 'runc' }, host(true, true))).toEqual({ name: 'runc', bin: 'runc' });
    await expect(chooseExecutor({ job: 'build', runtime: 'runc' }, host(true, false))).rejects.toMatchObject({ code: 'RUNTIME', hint: expect.stringContaining('--runtime unshare') });
  });

  test('tsbuild run: runc, whatever else the host has', async () => {
    const h = host(true, true);
    expect(await chooseExecutor({ job: 'run', runtime: 'auto' }, h)).toEqual({ name: 'runc', bin: 'runc' });
    expect(h.probed).toEqual(['runc runc']);
    await expect(chooseExecutor({ job: 'run', runtime: 'auto' }, host(true, false))).rejects.toMatchObject({ code: 'RUNTIME', hint: 'tsbuild run needs runc: install it (Debian: apt-get install runc)' });
  });
});
