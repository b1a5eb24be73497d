import { lstatSync } from 'node:fs';
import { posix, join } from 'node:path';
import { isErrno } from '../core/errors.ts';
import { osPath } from '../core/names.ts';
import { readlinkNameSync } from './fsNames.ts';

const MAX_LINKS = 255;
const NO_THROW = { throwIfNoEntry: false } as const;

/**
 * secureJoin resolves unsafePath inside root as if root were `/`: `..` cannot climb
 * above root, and symlinks met on the way (absolute or relative) are followed
 * *within* root. The result is always root or below it. Components that do not
 * exist yet are kept as written. The last component is not followed when
 * followLast is false (to create, replace or lstat the entry itself). Paths and
 * link targets are name strings (core/names.ts): bytes that are not UTF-8 are kept.
 * Like umoci's/filepath-securejoin, it is racy against concurrent writers; callers own root.
 */
export async function secureJoin(root: string, unsafePath: string, followLast = true): Promise<string> {
  return secureJoinSync(root, unsafePath, followLast);
}

/**
 * secureJoinSync is secureJoin with synchronous lstat/readlink: each component costs a few
 * microseconds instead of a thread-pool round trip and, for a component that does not
 * exist, a thrown ENOENT (a layer's extraction resolves every parent directory it makes).
 */
export function secureJoinSync(root: string, unsafePath: string, followLast = true): string {
  let pending = posix.normalize('/' + unsafePath).split('/').filter(Boolean);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') { resolved.pop(); continue; }
    const candidate = join(root, ...resolved, part);
    if (pending.length === 0 && !followLast) { resolved.push(part); break; }
    let target: string | undefined;
    try {
      const st = lstatSync(osPath(candidate), NO_THROW);
      if (st?.isSymbolicLink()) target = readlinkNameSync(candidate);
    } catch (e) {
      if (!isErrno(e, 'ENOENT') && !isErrno(e, 'ENOTDIR')) throw e;
    }
    if (target === undefined) { resolved.push(part); continue; }
    if (++links > MAX_LINKS) throw Object.assign(new Error(`too many symlinks resolving ${unsafePath}`), { code: 'ELOOP', path: unsafePath });
    if (target.startsWith('/')) resolved.length = 0;
    pending = [...target.split('/').filter(Boolean), ...pending];
  }
  return join(root, ...resolved);
}
