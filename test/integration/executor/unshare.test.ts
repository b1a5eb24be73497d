import { existsSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { UnshareExecutor } from '../../../src/executor/UnshareExecutor.ts';
import { isRoot } from '../../helpers/rootfs.ts';
import { executorSuite, run, Sandbox } from './executor.suite.ts';

describe.runIf(isRoot)('UnshareExecutor', () => {
  describe('conformance', () => executorSuite(() => new UnshareExecutor()));

  describe('unshare specifics', () => {
    const box = new Sandbox();
    const ex = new UnshareExecutor();
    afterAll(() => box.cleanup());

    test('a missing executable is a RUNTIME error, checked before anything starts', async () => {
      const s = box.spec(box.rootfs(), ['/no/such/binary']);
      await expect(run(ex, s)).rejects.toMatchObject({ code: 'RUNTIME', message: expect.stringContaining('/no/such/binary') });
      await expect(run(ex, box.spec(box.rootfs(), ['nosuchcmd']))).rejects.toMatchObject({ code: 'RUNTIME', message: 'exec: "nosuchcmd": executable file not found in $PATH' });
      expect(existsSync(s.stateDir)).toBe(false);
    });

    test('the rootfs and /dev are nodev: a device node made there cannot be opened', async () => {
      const r = await run(ex, box.spec(box.rootfs(), ['/bin/sh', '-c', 'mknod /tmp/null c 1 3 && echo made; echo x > /tmp/null || echo refused; mknod /dev/null2 c 1 3 && echo x > /dev/null2 || echo refused; echo x > /dev/null && echo devnull-ok']));
      expect(r.stdout).toBe('made\nrefused\nrefused\ndevnull-ok\n');
    });
  });
});
