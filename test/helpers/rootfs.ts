import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

/** BUSYBOX is Debian's busybox-static binary, the base of every fast test image. */
export const BUSYBOX = '/bin/busybox';

/** hasBusybox tells whether busybox-static is installed (CI installs it). */
export function hasBusybox(): boolean {
  return existsSync(BUSYBOX);
}

/**
 * makeBusyboxRootfs writes a minimal root filesystem into dir: /bin/busybox with a
 * link for each applet, /etc/passwd and /etc/group with root and nobody, and /tmp.
 */
export function makeBusyboxRootfs(dir: string): void {
  for (const d of ['bin', 'etc', 'tmp', 'root', 'proc', 'dev', 'sys']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) {
    if (a === 'busybox') continue;
    const p = join(dir, 'bin', a);
    if (!existsSync(p)) symlinkSync('busybox', p);
  }
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\nstaff:x:50:app\n');
}

/** makeBusyboxTar writes the busybox rootfs as a tar file (for `tsbuild import`). */
export function makeBusyboxTar(workDir: string, tarPath: string): void {
  const dir = join(workDir, 'bbroot');
  makeBusyboxRootfs(dir);
  execFileSync('tar', ['--numeric-owner', '-C', dir, '-cf', tarPath, '.']);
}

/** isRoot tells whether tests that mount or run containers can run. */
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
