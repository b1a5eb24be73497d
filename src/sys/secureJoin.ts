import { lstat, readlink } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { isErrno } from '../core/errors.ts';

const MAX_LINKS = 255;

/**
 * secureJoin resolves unsafePath inside root as if root were `/`: `..` cannot climb
 * above root, and symlinks met on the way (absolute or relative) are followed
 * *within* root. The result is always root or below it. Components that do not
 * exist yet are kept as written. The last component is not followed when
 * followLast is false (to create, replace or lstat the entry itself).
 * Like umoci's/filepath-securejoin, it is racy against concurrent writers; callers own root.
 */
export async function secureJoin(root: string, unsafePath: string, followLast = true): Promise<string> {
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
      const st = await lstat(candidate);
      if (st.isSymbolicLink()) target = await readlink(candidate);
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
