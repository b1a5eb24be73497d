import { describe, expect, test } from 'vitest';
import { selectExecutor } from '../../../src/executor/selectExecutor.ts';
import { isRoot } from '../../helpers/rootfs.ts';

describe.runIf(isRoot)('selectExecutor', () => {
  test('auto takes runc when it works', async () => {
    expect((await selectExecutor('auto')).name).toBe('runc');
  });
  test('auto falls back to unshare without a working runc', async () => {
    expect((await selectExecutor('auto', { runc: '/nonexistent/runc' })).name).toBe('unshare');
  });
  test('unshare is taken when asked for', async () => {
    expect((await selectExecutor('unshare')).name).toBe('unshare');
  });
  test('runc without runc is a RUNTIME error with a hint', async () => {
    await expect(selectExecutor('runc', { runc: '/nonexistent/runc' })).rejects.toMatchObject({ code: 'RUNTIME', hint: expect.stringContaining('--runtime unshare') });
  });
});
