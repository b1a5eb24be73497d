import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, test } from 'vitest';
import { UnshareExecutor } from '../../../src/executor/UnshareExecutor.ts';
import { isRoot } from '../../helpers/rootfs.ts';
import { executorSuite, processesWith, run, Sandbox, type SpecOverrides } from './executor.suite.ts';
import { escapeSuite } from './escape.suite.ts';
import { perlServer } from '../../../src/sys/perlServer.ts';

describe.runIf(isRoot)('UnshareExecutor', () => {
  describe('conformance', () => executorSuite(() => new UnshareExecutor()));
  describe('escape', () => escapeSuite(() => new UnshareExecutor()));

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

    test("stdin, a terminal or inherited output are refused before anything starts: those runs are runc's", async () => {
      const cases: SpecOverrides[] = [
        { stdin: Readable.from(['x']) }, { stdin: 'inherit' }, { stdout: 'inherit' }, { stderr: 'inherit' },
        { stdin: 'inherit', stdout: 'inherit', stderr: 'inherit', process: { terminal: true } },
      ];
      for (const over of cases) {
        const rootfs = box.rootfs();
        const s = box.spec(rootfs, ['/bin/touch', '/ran'], over);
        await expect(run(ex, s)).rejects.toMatchObject({ code: 'RUNTIME', hint: 'use --runtime runc' });
        expect(existsSync(join(rootfs, 'ran'))).toBe(false);
        expect(existsSync(s.stateDir)).toBe(false);
      }
    });

    test('exit 125 of the command is its own, not a setup error', async () => {
      expect((await run(ex, box.spec(box.rootfs(), ['/bin/sh', '-c', 'exit 125']))).status.exitCode).toBe(125);
    });

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

    test('a setup step after the root switch that fails is a RUNTIME setup error too', async () => {
      // The cwd is made in the rootfs, under where /proc is then mounted: chdir fails inside.
      const s = box.spec(box.rootfs(), ['/bin/true'], { process: { cwd: '/proc/tsbuild-hidden' } });
      await expect(run(ex, s)).rejects.toMatchObject({ code: 'RUNTIME', message: expect.stringMatching(/container setup failed: chdir \/proc\/tsbuild-hidden: No such file or directory$/) });
    });
  });

  // Last in this file: the process-wide server stays dead.
  test('when the perl server dies, a running container dies with it and run() fails as a RUNTIME error, as do later runs', async () => {
    const box = new Sandbox();
    try {
      const ex = new UnshareExecutor();
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
      await expect(run(ex, box.spec(box.rootfs(), ['/bin/echo', 'late']))).rejects.toMatchObject({ code: 'RUNTIME', hint: 'install perl-base, or use --runtime runc' });
    } finally {
      box.cleanup();
    }
  });
});
