import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import type { Executor } from '../../../src/executor/types.ts';
import { escapeHelper, hostBlockDevice, parseEscape, type EscapeLine } from '../../helpers/escapeHelper.ts';
import { mountsUnder, processesWith, run, Sandbox } from './executor.suite.ts';

/** EPERM, or ENOSYS from a seccomp filter: the kernel refused before looking at the arguments. */
const REFUSED = ['1', '38'];

/**
 * escapeSuite is what every Executor must withstand: the known ways out of a container
 * (the double chroot, /proc/PID/root, mount(2), a user namespace, open_by_handle_at, a
 * block device, ptrace, /proc/sysrq-trigger and /sys, the builder's environment, kernel
 * modules), tried from inside by root with the executor's own capabilities, on a busybox
 * rootfs with test/helpers/escape.c built static for the raw system calls. Each attempt
 * must fail; where a file on the host is the target, the host side is checked too.
 */
export function escapeSuite(make: () => Executor): void {
  const box = new Sandbox();
  const secret = `tsbuild-secret-${randomBytes(8).toString('hex')}`;
  let ex: Executor;
  let rootfs: string;
  let marker: string;
  beforeAll(() => {
    ex = make();
    rootfs = box.rootfs();
    copyFileSync(escapeHelper(), join(rootfs, 'bin/escape'));
    // A file only the host has: the attempts below must neither read nor create one like it.
    marker = join(box.dir, 'host-only');
    writeFileSync(marker, `${secret}\n`);
    // The builder's environment holds a secret the step must not see.
    process.env.TSBUILD_ESCAPE_SECRET = secret;
  });
  afterEach(() => {
    expect(mountsUnder(box.dir)).toEqual([]);
  });
  afterAll(() => {
    delete process.env.TSBUILD_ESCAPE_SECRET;
    box.cleanup();
  });

  const inside = (args: string[]) => run(ex, box.spec(rootfs, args));
  const sh = (script: string) => inside(['/bin/sh', '-c', script]);
  const escape = async (...args: string[]): Promise<EscapeLine[]> => {
    const r = await inside(['/bin/escape', ...args]);
    expect(r.status.exitCode, r.stderr).toBe(0);
    return parseEscape(r.stdout);
  };
  const escaped = (lines: EscapeLine[]) => lines.filter((l) => l.escaped);

  test.each(['chroot', 'chroot-fd'])('the double chroot (%s) ends at the container root: a host file is neither readable nor creatable', async (how) => {
    const created = join(box.dir, `created-by-${how}`);
    const lines = await escape(how, marker, created);
    expect(lines.map((l) => l.name)).toEqual([`${how}-read`, `${how}-create`]);
    expect(escaped(lines)).toEqual([]);
    expect(existsSync(created)).toBe(false);
  });

  test("the container's mount namespace holds its own mounts only: the host's tree was detached", async () => {
    // setns into a mount namespace moves nsenter to that namespace's root: with a chroot that
    // would still be the host's, and the host's mounts would all be listed.
    const marker = `sleep ${process.pid}3`;
    const ac = new AbortController();
    const p = run(ex, box.spec(rootfs, ['/bin/sh', '-c', marker], { signal: ac.signal }));
    try {
      let pids: number[] = [];
      for (let i = 0; i < 200 && pids.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        pids = processesWith(marker);
      }
      expect(pids.length, 'the container started').toBeGreaterThan(0);
      const info = execFileSync('nsenter', ['-t', String(pids[0]), '-m', '-p', 'cat', '/proc/self/mountinfo'], { encoding: 'utf8' });
      const points = info.trim().split('\n').map((l) => l.split(' ')[4]!);
      expect(points[0]).toBe('/');
      // Mount points only: a bind's root (field 4) names its host source, which is no path to it.
      expect(points.filter((m) => !/^\/(proc|dev|sys|etc)?(\/|$)/.test(m))).toEqual([]);
    } finally {
      ac.abort();
      await p;
    }
  });

  test('/proc/PID/root and /proc/PID/cwd lead to the container root, never the host', async () => {
    const created = join(box.dir, 'created-by-proc');
    const r = await sh([
      `for p in /proc/[0-9]* /proc/self /proc/thread-self; do cat $p/root${marker} $p/root/../../..${marker} $p/cwd/../../..${marker}; done`,
      `echo x > /proc/1/root${created}; echo x > /proc/self/root/../..${created}`,
      'readlink /proc/1/root; readlink /proc/self/root',
    ].join('\n'));
    expect(r.stdout).not.toContain(secret);
    expect(r.stdout).toBe('/\n/\n');
    expect(existsSync(created)).toBe(false);
  });

  test('mount(2) of anything is refused', async () => {
    const lines = await escape('mount');
    expect(lines.length).toBeGreaterThan(0);
    expect(escaped(lines)).toEqual([]);
  });

  test('a new user namespace is refused, so it cannot mount either', async () => {
    const lines = await escape('userns-mount');
    expect(escaped(lines)).toEqual([]);
    expect(lines.map((l) => l.name)).toEqual(['userns']);
    expect(REFUSED).toContain(lines[0]!.detail);
  });

  test('open_by_handle_at is refused (the "shocker" handle through a host file bound in)', async () => {
    const lines = await escape('handle');
    expect(escaped(lines)).toEqual([]);
    const forged = lines.find((l) => l.name === 'handle-forged');
    expect(REFUSED).toContain(forged?.detail);
  });

  test('a block device made with mknod cannot be read, wherever it is made', async () => {
    const { major, minor } = hostBlockDevice();
    const lines = await escape('mknod', String(major), String(minor));
    expect(lines.length).toBeGreaterThan(0);
    expect(escaped(lines)).toEqual([]);
  });

  test('the builder cannot be traced or signalled', async () => {
    const lines = await escape('ptrace', String(process.pid));
    expect(escaped(lines)).toEqual([]);
  });

  test('/proc/sysrq-trigger and /sys cannot be written', async () => {
    // Writes of the current value back (harmless should they ever get through).
    const r = await sh([
      'echo h > /proc/sysrq-trigger && echo sysrq',
      'for f in /sys/block/*/queue/read_ahead_kb /sys/kernel/mm/ksm/run /sys/class/net/lo/mtu; do v=$(cat $f) && echo "$v" > $f && echo wrote $f; done',
      'touch /sys/tsbuild && echo created',
      'echo done',
    ].join('\n'));
    expect(r.stdout).toBe('done\n');
  });

  test("the builder's environment and command line are not readable", async () => {
    const r = await sh('cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline /proc/self/environ | tr "\\0" "\\n"; env');
    expect(r.status.exitCode).toBe(0);
    expect(r.stdout).not.toContain(secret);
    expect(r.stdout).not.toContain(process.argv[1]!);
  });

  test('kernel modules cannot be loaded', async () => {
    const lines = await escape('module');
    expect(lines.map((l) => l.name)).toEqual(['init_module', 'finit_module']);
    expect(escaped(lines)).toEqual([]);
    for (const l of lines) expect(REFUSED).toContain(l.detail);
  });
}
