import { describe, expect, test } from 'vitest';
import { selectExecutor } from '../../../src/executor/selectExecutor.ts';
import { isRoot } from '../../helpers/rootfs.ts';

// On this host (perl and runc both there); every other combination is in test/unit/executor/selectExecutor.test.ts.
describe.runIf(isRoot)('selectExecutor on this host', () => {
  test('build steps take the unshare executor, tsbuild run takes runc', async () => {
    expect((await selectExecutor({ job: 'build', runtime: 'auto' })).name).toBe('unshare');
    expect((await selectExecutor({ job: 'build', runtime: 'runc' })).name).toBe('runc');
    expect((await selectExecutor({ job: 'run', runtime: 'auto' })).name).toBe('runc');
  });
  test('a runc that does not work is a RUNTIME error with a hint', async () => {
    await expect(selectExecutor({ job: 'run', runtime: 'auto' }, { runc: '/nonexistent/runc' })).rejects.toMatchObject({ code: 'RUNTIME', hint: expect.stringContaining('apt-get install runc') });
  });
});
