import { prepareMountPoints } from '../executor/mountPoints.ts';
import { systemMounts } from '../executor/runtimeSpec.ts';

/**
 * makeMountStubs creates in rootfs, before the container starts, the mount
 * points of the runtime's system mounts (/proc, /dev, /sys, /etc/hostname,
 * /etc/hosts, /etc/resolv.conf, …) that the image lacks, and returns what it
 * created (relative, parents first). Doing it ahead of the runtime means the
 * record knows the stubs while the container runs, so a commit of a *running*
 * container can leave them out too. Their parent directories are listed as
 * well: overlayfs copies a parent up when a stub is made in it, and such a
 * copy holding nothing but stubs is no change of the container's own (as
 * Docker keeps these files in a separate init layer).
 */
export async function makeMountStubs(rootfs: string): Promise<string[]> {
  // The bind sources only tell file from directory: the name-resolution files are files.
  const mounts = systemMounts({ resolvConf: '/dev/null', hosts: '/dev/null', hostname: '/dev/null' });
  const created = (await prepareMountPoints(rootfs, mounts)).createdStubs;
  const out = new Set<string>();
  for (const p of created) {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) out.add(parts.slice(0, i).join('/'));
  }
  return [...out];
}
