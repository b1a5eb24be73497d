import { lstat, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { getAttribute } from '../sys/xattr.ts';
import { isErrno } from '../core/errors.ts';

/** LowerStat describes a path of the image below the layer being written. */
export interface LowerStat {
  type: 'dir' | 'file' | 'symlink' | 'other';
  /** Permission bits (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
}

/**
 * LowerFs is read access to the image a COPY writes on top of, by container path (absolute,
 * clean). copyInto uses it to decide whether the destination is an existing directory, to give
 * existing parent directories their image metadata in the new layer, and to follow symlinks of
 * the image in the destination path.
 */
export interface LowerFs {
  /** lstat returns the entry at containerPath (not following a final symlink) or null when absent. */
  lstat(containerPath: string): Promise<LowerStat | null>;
  /** readlink returns the target of the symlink at containerPath. */
  readlink(containerPath: string): Promise<string>;
}

function toLowerStat(st: Stats): LowerStat {
  const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
  return { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs };
}

async function tryLstat(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return null;
    throw e;
  }
}

/** lowerFromRoot reads a plain root filesystem directory (a merged overlay or an unpacked image). */
export function lowerFromRoot(rootDir: string): LowerFs {
  return {
    async lstat(p) {
      const st = await tryLstat(join(rootDir, p));
      return st === null ? null : toLowerStat(st);
    },
    readlink: (p) => readlink(join(rootDir, p)),
  };
}

const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

async function isOpaque(dir: string): Promise<boolean> {
  try {
    const v = await getAttribute(dir, 'trusted.overlay.opaque');
    return v !== null && v.toString() === 'y';
  } catch {
    return false; // no xattr support (or not permitted to read trusted.*): not opaque
  }
}

/**
 * lowerFromDirs reads a stack of overlay lowerdirs (topmost first) as overlayfs would merge them:
 * a 0/0 character device is a whiteout, a non-directory hides what lies below it, and a
 * directory marked trusted.overlay.opaque=y hides the layers beneath.
 */
export function lowerFromDirs(layers: readonly string[]): LowerFs {
  const find = async (p: string): Promise<{ layer: string; st: Stats } | null> => {
    const parts = p.split('/').filter(Boolean);
    for (const layer of layers) {
      let stop = false;
      let present = true;
      for (let i = 1; i < parts.length && present; i++) {
        const anc = join(layer, ...parts.slice(0, i));
        const st = await tryLstat(anc);
        if (st === null) { present = false; break; }
        if (isWhiteout(st) || !st.isDirectory()) return null;
        if (await isOpaque(anc)) stop = true;
      }
      if (present) {
        const full = join(layer, ...parts);
        const st = await tryLstat(full);
        if (st !== null) return isWhiteout(st) ? null : { layer, st };
      }
      if (stop) return null;
    }
    return null;
  };
  return {
    async lstat(p) {
      const hit = await find(p);
      return hit === null ? null : toLowerStat(hit.st);
    },
    async readlink(p) {
      const hit = await find(p);
      if (hit === null) throw Object.assign(new Error(`readlink ${p}: not found`), { code: 'ENOENT' });
      return readlink(join(hit.layer, p));
    },
  };
}

/**
 * resolveInLower follows symlinks of the image along containerPath (the last component too),
 * with the image root as `/`: what a process in the container would open. Missing components
 * are kept as written. The result is absolute and clean.
 */
export async function resolveInLower(lower: LowerFs, containerPath: string): Promise<string> {
  let pending = posix.normalize('/' + containerPath).split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') { done.pop(); continue; }
    const cur = '/' + [...done, part].join('/');
    const st = await lower.lstat(cur);
    if (st?.type !== 'symlink') { done.push(part); continue; }
    if (++links > 255) throw Object.assign(new Error(`too many symlinks resolving ${containerPath}`), { code: 'ELOOP' });
    const target = await lower.readlink(cur);
    if (target.startsWith('/')) done.length = 0;
    pending = [...target.split('/').filter(Boolean), ...pending];
  }
  return '/' + done.join('/');
}
