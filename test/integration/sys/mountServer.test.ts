import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { bindMount, configureMountServer, isMountPoint, mountCall, mountOverlay, mountView, namespacePath, overlayOptions, syncFs, unmount } from '../../../src/sys/mount.ts';
import { PerlServer, perlServer } from '../../../src/sys/perlServer.ts';
import { syscallNumbers } from '../../../src/sys/syscalls.ts';
import { mountsUnder, mountsUnderAnywhere } from '../../helpers/cli.ts';
import { ToolServer } from '../../../src/sys/toolServer.ts';
import { isRoot } from '../../helpers/rootfs.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsbuild-mountserver-'));
afterEach(() => configureMountServer({ enabled: true }));
afterAll(async () => {
  for (const t of ['m1', 'm2', 'b']) await unmount(join(dir, t)).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

/** overlayIn makes lower/upper/work/merged under dir/name, with relative lowerdirs as the snapshotter uses them. */
function overlayIn(name: string) {
  const d = join(dir, name);
  for (const s of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(d, s), { recursive: true });
  writeFileSync(join(d, 'lower/f'), 'from lower');
  return { lowerdirs: ['lower'], upperdir: join(d, 'upper'), workdir: join(d, 'work'), target: join(d, 'merged'), cwd: d, volatile: true };
}

describe.runIf(isRoot)('mount server', () => {
  test('mounts an overlay with lowerdirs relative to cwd, unmounts it, and unmount of a non-mount is a no-op', async () => {
    const m = overlayIn('m1');
    await mountOverlay(m);
    expect(await isMountPoint(m.target)).toBe(true);
    expect(readFileSync(join(mountView(m.target), 'f'), 'utf8')).toBe('from lower');
    await unmount(m.target);
    expect(await isMountPoint(m.target)).toBe(false);
    await unmount(m.target);
    await unmount(join(dir, 'no-such-dir'));
  });

  test('a busy mount is detached lazily; bind mounts and syncfs work', async () => {
    const src = join(dir, 'src');
    const b = join(dir, 'b');
    mkdirSync(src, { recursive: true });
    mkdirSync(b, { recursive: true });
    writeFileSync(join(src, 'x'), 'bound');
    await bindMount(src, b);
    expect(readFileSync(join(mountView(b), 'x'), 'utf8')).toBe('bound');
    process.chdir(mountView(b)); // our own cwd inside it makes it busy
    try {
      await unmount(b);
    } finally {
      process.chdir('/');
    }
    expect(await isMountPoint(b)).toBe(false);
    await syncFs(dir);
  });

  test('the server itself answers (no fallback), and a detached sync deletes its markers once done', async () => {
    expect(await mountCall('syncfs', '/', [dir])).toEqual({ ok: true });
    const markers = ['d1', 'd2'].map((n) => join(dir, n));
    for (const m of markers) writeFileSync(m, '');
    const server = perlServer()!;
    expect(await server.syncDetached(dir, markers)).toEqual({ ok: true });
    for (let i = 0; i < 250 && markers.some((m) => existsSync(m)); i++) await new Promise((r) => setTimeout(r, 20));
    expect(markers.filter((m) => existsSync(m))).toEqual([]);
    expect(server.dead).toBe(false);
  });

  test('mounts live in the server\'s own mount namespace: not in ours, reached through /proc/PID/root, gone with the server', async () => {
    const server = new PerlServer('/usr/bin/perl', syscallNumbers()!);
    const m = overlayIn('ns');
    expect(await server.call('mount', m.cwd, ['overlay', m.target, 'overlay', '0', overlayOptions(m)])).toEqual({ ok: true });
    const view = `/proc/${server.pid}/root${m.target}`;
    expect(namespacePath(view)).toEqual({ path: m.target, pid: server.pid });
    expect(readFileSync(join(view, 'f'), 'utf8')).toBe('from lower');
    expect(readFileSync(`/proc/${server.pid}/mountinfo`, 'utf8')).toContain(` ${m.target} `);
    expect(mountsUnder(dir), 'mounts in our namespace').toEqual([]);
    // What a SIGKILLed tsbuild does to it (death signal): the kernel tears the namespace down.
    process.kill(server.pid, 'SIGKILL');
    for (let i = 0; i < 250 && !server.dead; i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.dead).toBe(true);
    const holders = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/mountinfo`, 'utf8').includes(` ${m.target} `);
      } catch {
        return false;
      }
    });
    expect(holders, 'processes that still see the mount').toEqual([]);
  });

  test('errors carry the errno text: a mount on a missing target', async () => {
    const r = await mountCall('mount', '/', ['none', join(dir, 'missing'), 'tmpfs', '0', '']);
    expect(r).toEqual({ ok: false, errno: 2, message: 'No such file or directory' });
    await expect(bindMount(join(dir, 'src'), join(dir, 'missing'))).rejects.toThrow(/mount bind .* on .*missing: No such file or directory/);
  });

  test('without the server, mount(8) and umount(8) do the same, in a mount namespace of their own', async () => {
    configureMountServer({ enabled: false });
    expect(await mountCall('umount', '/', ['/nonexistent', '0'])).toBeNull();
    const m = overlayIn('m2');
    await mountOverlay(m);
    expect(await isMountPoint(m.target)).toBe(true);
    expect(mountsUnder(dir), 'mounts in our namespace').toEqual([]);
    expect(readFileSync(join(mountView(m.target), 'f'), 'utf8')).toBe('from lower');
    await syncFs(dir);
    await unmount(m.target);
    expect(await isMountPoint(m.target)).toBe(false);
  });

  test('the mount(8) server\'s mounts are gone with it', async () => {
    const tools = new ToolServer({ ownMountNamespace: true });
    const m = overlayIn('m3');
    await tools.run('mount', ['-t', 'overlay', 'overlay', '-o', overlayOptions(m), m.target], { cwd: m.cwd });
    expect(readFileSync(`/proc/${tools.pid}/mountinfo`, 'utf8')).toContain(` ${m.target} `);
    expect(mountsUnder(dir)).toEqual([]);
    process.kill(tools.pid, 'SIGKILL');
    for (let i = 0; i < 250 && mountsUnderAnywhere(m.target).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(mountsUnderAnywhere(m.target)).toEqual([]);
  });
});
