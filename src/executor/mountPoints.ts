import { lstat, mkdir, stat, writeFile } from 'node:fs/promises';
import { posix, relative, sep } from 'node:path';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { secureJoin } from '../sys/secureJoin.ts';
import type { RuntimeMount } from './runtimeSpec.ts';

/** MountPointKind is what a mount needs at its destination: a directory, or a file for a file bind. */
export type MountPointKind = 'dir' | 'file';

/**
 * mountPointKind tells what a mount's destination must be: a file when it binds a
 * file (or a device node), a directory otherwise. A missing bind source is the caller's error.
 */
export async function mountPointKind(m: RuntimeMount): Promise<MountPointKind> {
  if (m.type !== 'bind') return 'dir';
  try {
    return (await stat(m.source)).isDirectory() ? 'dir' : 'file';
  } catch (e) {
    throw new TsbuildError('RUNTIME', `mount ${m.source} on ${m.destination}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * coveringMount returns the earlier mount whose destination contains dest (the last
 * such one), or undefined. A destination under another mount is created inside that
 * mount by the runtime, never in the rootfs.
 */
export function coveringMount(mounts: readonly RuntimeMount[], index: number): RuntimeMount | undefined {
  const dest = posix.normalize(mounts[index]!.destination);
  let found: RuntimeMount | undefined;
  for (let i = 0; i < index; i++) {
    const d = posix.normalize(mounts[i]!.destination);
    if (d !== dest && (d === '/' || dest.startsWith(d + '/'))) found = mounts[i];
  }
  return found;
}

/**
 * ensureMountPoint makes dest (absolute, inside root, resolved with secureJoin so
 * symlinks cannot lead outside root) exist as kind, creating missing parent dirs.
 * Returns the resolved host path and the paths it created, relative to root (no
 * leading `/`), parents first. Existing entries are left as they are.
 */
export async function ensureMountPoint(root: string, dest: string, kind: MountPointKind): Promise<{ path: string; created: string[] }> {
  const path = await secureJoin(root, dest);
  if (await exists(path)) return { path, created: [] };
  const rel = relative(root, path);
  const parts = rel.split(sep);
  const created: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    // Parents were resolved by secureJoin: none is a symlink, so a plain mkdir stays inside root.
    if (await mkdirIfMissing(`${root}/${dir}`)) created.push(dir);
  }
  if (kind === 'dir') await mkdir(path, { mode: 0o755 });
  else await writeFile(path, '', { mode: 0o644, flag: 'wx' });
  created.push(parts.join('/'));
  return { path, created };
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return false;
    throw new TsbuildError('RUNTIME', `mount point ${p}: ${(e as Error).message}`, { cause: e });
  }
}

async function mkdirIfMissing(p: string): Promise<boolean> {
  try {
    await mkdir(p, { mode: 0o755 });
    return true;
  } catch (e) {
    if (isErrno(e, 'EEXIST')) return false;
    throw new TsbuildError('RUNTIME', `mount point ${p}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * ensureCwd creates the working directory when missing (as BuildKit does), owned by
 * root, mode 0755. Unlike mount points it is real content and belongs in the layer.
 */
export async function ensureCwd(rootfs: string, cwd: string): Promise<void> {
  const p = await secureJoin(rootfs, cwd);
  try {
    await mkdir(p, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw new TsbuildError('RUNTIME', `working directory ${cwd}: ${(e as Error).message}`, { cause: e });
  }
}

/** PreparedMountPoints are the mounts' destinations made ready in a rootfs. */
export interface PreparedMountPoints {
  /** Per mount: the resolved host path of its destination, or undefined when it lies under an earlier mount. */
  targets: (string | undefined)[];
  /** What had to be created, relative to the rootfs, parents first (see ExitStatus.createdStubs). */
  createdStubs: string[];
}

/**
 * prepareMountPoints creates, in order, each destination that is not under an earlier
 * mount, so the runtime never has to write into the rootfs, and reports what it created.
 * Destinations are probed in parallel (the usual case creates little); only missing
 * ones are then created one by one, in mount order, so parents come before children.
 */
export async function prepareMountPoints(rootfs: string, mounts: readonly RuntimeMount[]): Promise<PreparedMountPoints> {
  const probes = await Promise.all(mounts.map(async (m, i) => {
    if (coveringMount(mounts, i)) return undefined;
    const [path, kind] = await Promise.all([secureJoin(rootfs, m.destination), mountPointKind(m)]);
    return { path, kind, exists: await exists(path) };
  }));
  const targets: (string | undefined)[] = [];
  const createdStubs: string[] = [];
  for (let i = 0; i < mounts.length; i++) {
    const p = probes[i];
    if (!p || p.exists) {
      targets.push(p?.path);
      continue;
    }
    // Re-resolved: an earlier mount point may have created one of its parents meanwhile.
    const r = await ensureMountPoint(rootfs, mounts[i]!.destination, p.kind);
    targets.push(r.path);
    createdStubs.push(...r.created);
  }
  return { targets, createdStubs };
}
