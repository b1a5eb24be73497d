import { lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { readlinkName } from '../sys/fsNames.ts';
import { getAttribute, getAttributeSync, withXattrPath } from '../sys/xattr.ts';
import { isErrno } from '../core/errors.ts';
import { hasEscapes, osPath } from '../core/names.ts';

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
 * clean; a name string, core/names.ts). copyInto uses it to decide whether the destination is an existing directory, to give
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
    return await lstat(osPath(p));
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
    readlink: (p) => readlinkName(join(rootDir, p)),
  };
}

const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

async function isOpaque(dir: string): Promise<boolean> {
  try {
    const v = hasEscapes(dir)
      ? withXattrPath(dir, { isDir: true }, (p) => getAttributeSync(p, 'trusted.overlay.opaque'))
      : await getAttribute(dir, 'trusted.overlay.opaque');
    return v !== null && v.toString() === 'y';
  } catch {
    return false; // no xattr support (or not permitted to read trusted.*): not opaque
  }
}

/** PlannedMeta and PlannedNode are a layer known as an in-memory tree (a COPY's plan), read-only. */
interface PlannedMeta {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeMs: number;
}
export type PlannedNode =
  | { readonly kind: 'dir'; readonly meta: PlannedMeta; readonly children: ReadonlyMap<string, PlannedNode> }
  | { readonly kind: 'file'; readonly file: PlannedMeta }
  | { readonly kind: 'symlink'; readonly meta: PlannedMeta; readonly target: string };

/** LowerLayer is one layer of the image below: an extracted lowerdir, or a tree not extracted. */
export type LowerLayer = string | PlannedNode;

/** Hit is where a path was found: the layer and its stat (dir layers) or node (tree layers). */
type Hit = { layer: string; st: Stats } | { node: PlannedNode };

/**
 * lowerFromDirs reads a stack of overlay lowerdirs (topmost first) as overlayfs would merge them:
 * a 0/0 character device is a whiteout, a non-directory hides what lies below it, and a
 * directory marked trusted.overlay.opaque=y hides the layers beneath.
 */
export function lowerFromDirs(layers: readonly string[]): LowerFs {
  return lowerFromLayers(layers);
}

/**
 * lowerFromLayers is lowerFromDirs over a stack that may also hold layers known only as trees
 * (a COPY's plan, whose tar is in the store but not extracted): such a layer has no whiteouts
 * or opaque dirs, and a non-directory in it hides what lies below, as in a lowerdir.
 */
export function lowerFromLayers(layers: readonly LowerLayer[]): LowerFs {
  const find = async (p: string): Promise<Hit | null> => {
    const parts = p.split('/').filter(Boolean);
    for (const layer of layers) {
      const r = typeof layer === 'string' ? await findInDir(layer, parts) : findInTree(layer, parts);
      if (r === 'absent') continue;
      return r === 'hidden' || r === 'stop' ? null : r;
    }
    return null;
  };
  return {
    async lstat(p) {
      const hit = await find(p);
      if (hit === null) return null;
      if ('st' in hit) return toLowerStat(hit.st);
      const n = hit.node;
      const m = n.kind === 'file' ? n.file : n.meta;
      return { type: n.kind, mode: m.mode & 0o7777, uid: m.uid, gid: m.gid, mtimeMs: m.mtimeMs };
    },
    async readlink(p) {
      const hit = await find(p);
      if (hit === null) throw Object.assign(new Error(`readlink ${p}: not found`), { code: 'ENOENT' });
      if ('st' in hit) return readlinkName(join(hit.layer, p));
      if (hit.node.kind !== 'symlink') throw Object.assign(new Error(`readlink ${p}: not a symlink`), { code: 'EINVAL' });
      return hit.node.target;
    },
  };
}

/** findInDir looks p up in one lowerdir: found, absent (look below), hidden (a whiteout or file above), or stop (opaque). */
async function findInDir(layer: string, parts: string[]): Promise<Hit | 'absent' | 'hidden' | 'stop'> {
  let stop = false;
  for (let i = 1; i < parts.length; i++) {
    const anc = join(layer, ...parts.slice(0, i));
    const st = await tryLstat(anc);
    if (st === null) return stop ? 'stop' : 'absent';
    if (isWhiteout(st) || !st.isDirectory()) return 'hidden';
    if (await isOpaque(anc)) stop = true;
  }
  const st = await tryLstat(join(layer, ...parts));
  if (st !== null) return isWhiteout(st) ? 'hidden' : { layer, st };
  return stop ? 'stop' : 'absent';
}

function findInTree(root: PlannedNode, parts: string[]): Hit | 'absent' | 'hidden' {
  let node: PlannedNode = root;
  for (let i = 0; i < parts.length; i++) {
    if (node.kind !== 'dir') return 'hidden';
    const next = node.children.get(parts[i]!);
    if (next === undefined) return 'absent';
    node = next;
  }
  return { node };
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
