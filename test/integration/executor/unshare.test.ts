import { existsSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { UnshareExecutor } from '../../../src/executor/UnshareExecutor.ts';
import { isRoot } from '../../helpers/rootfs.ts';
import { executorSuite, processesWith, run, Sandbox } from './executor.suite.ts';
import { escapeSuite } from './escape.suite.ts';
import { perlServer } from '../../../src/sys/perlServer.ts';

describe.runIf(isRoot)('UnshareExecutor', () => {
  describe('conformance, util-linux chain', () => executorSuite(() => new UnshareExecutor({ launcher: 'chain' })));
  describe('conformance, perl launch server', () => executorSuite(() => new UnshareExecutor({ launcher: 'perl' })));
  describe('escape, util-linux chain', () => escapeSuite(() => new UnshareExecutor({ launcher: 'chain' })));
  describe('escape, perl launch server', () => escapeSuite(() => new UnshareExecutor({ launcher: 'perl' })));

  describe.each(['chain', 'perl'] as const)('unshare specifics (%s)', (launcher) => {
    const box = new Sandbox();
    const ex = new UnshareExecutor({ launcher });
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

  describe('perl launch server', () => {
    const box = new Sandbox();
    const ex = new UnshareExecutor({ launcher: 'perl' });
    afterAll(() => box.cleanup());

    test('arguments with newlines, NUL-free binary-ish text and a large environment arrive intact', async () => {
      const script = 'printf "%s|" "$A" "$B"\necho\necho "$#" "$1"';
      const big = 'x'.repeat(100_000);
      const r = await run(ex, box.spec(box.rootfs(), ['/bin/sh', '-c', script, 'sh', 'line1\nline2'], { process: { env: ['PATH=/bin', `A=${big}`, 'B=é\t"\'$'] } }));
      expect(r).toMatchObject({ status: { exitCode: 0 }, stdout: `${big}|é\t"'$|\n1 line1\nline2\n` });
    });

    test('output of several MB arrives whole and in order, on both streams', async () => {
      const r = await run(ex, box.spec(box.rootfs(), ['/bin/sh', '-c', 'seq 1 400000; seq 1 1000 >&2']));
      expect(r.status.exitCode).toBe(0);
      expect(r.stdout.split('\n')).toHaveLength(400001);
      expect(r.stdout.endsWith('399999\n400000\n')).toBe(true);
      expect(r.stderr.split('\n')).toHaveLength(1001);
    });

    test('containers run side by side, each with its own output and status', async () => {
      const [ra, rb] = [box.rootfs(), box.rootfs()];
      const t0 = Date.now();
      const [a, b] = await Promise.all([
        run(ex, box.spec(ra, ['/bin/sh', '-c', 'sleep 0.5; echo a; exit 3'])),
        run(ex, box.spec(rb, ['/bin/sh', '-c', 'sleep 0.5; echo b >&2; exit 5'])),
      ]);
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(a).toMatchObject({ status: { exitCode: 3 }, stdout: 'a\n', stderr: '' });
      expect(b).toMatchObject({ status: { exitCode: 5 }, stdout: '', stderr: 'b\n' });
    });

    test('a mount that fails is a RUNTIME setup error naming it, and leaves nothing behind', async () => {
      const s = box.spec(box.rootfs(), ['/bin/true'], { mounts: [{ destination: '/mnt/x', type: 'tmpfs', source: 'tmpfs', options: ['size=bogus'] }] });
      await expect(run(ex, s)).rejects.toMatchObject({ code: 'RUNTIME', message: expect.stringMatching(/container setup failed: mount .*\/mnt\/x: Invalid argument$/) });
      expect(existsSync(s.stateDir)).toBe(false);
    });
  });

  // Last in this file: the process-wide server stays dead, later runs take the chain.
  test('when the perl server dies, a running container dies with it and run() fails as a RUNTIME error', async () => {
    const box = new Sandbox();
    try {
      const ex = new UnshareExecutor({ launcher: 'perl' });
      const marker = 'sleep 1234';
      const s = box.spec(box.rootfs(), ['/bin/sh', '-c', `${marker}; echo late`]);
      const p = run(ex, s);
      for (let i = 0; i < 100 && processesWith(marker).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(processesWith(marker).length, 'the container started').toBeGreaterThan(0);
      process.kill(perlServer()!.pid, 'SIGKILL');
      await expect(p).rejects.toMatchObject({ code: 'RUNTIME', message: expect.stringContaining('perl server exited') });
      for (let i = 0; i < 100 && processesWith(marker).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(processesWith(marker)).toEqual([]);
      expect(existsSync(s.stateDir)).toBe(false);
      expect(perlServer()).toBeUndefined();
      const r = await run(new UnshareExecutor(), box.spec(box.rootfs(), ['/bin/echo', 'chain']));
      expect(r).toMatchObject({ status: { exitCode: 0 }, stdout: 'chain\n' });
    } finally {
      box.cleanup();
    }
  });
});
