import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, openSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TsbuildError } from '../core/errors.ts';
import { displayName, hasEscapes, osPath } from '../core/names.ts';

type XattrModule = typeof import('@napi-rs/xattr');

let mod: XattrModule | undefined;

/**
 * xattr loads @napi-rs/xattr (a native addon; Node has no xattr API) on first
 * use: loading it costs tens of milliseconds, and a cached build never needs it.
 */
function xattr(): XattrModule {
  mod ??= createRequire(import.meta.url)('@napi-rs/xattr') as XattrModule;
  return mod;
}

/** getAttributeSync reads an extended attribute (not following a final symlink is the caller's choice of path). */
export const getAttributeSync: XattrModule['getAttributeSync'] = (...a) => xattr().getAttributeSync(...a);
/** getAttribute is the asynchronous getAttributeSync. */
export const getAttribute: XattrModule['getAttribute'] = (...a) => xattr().getAttribute(...a);
/** listAttributesSync lists the extended attribute names of a path. */
export const listAttributesSync: XattrModule['listAttributesSync'] = (...a) => xattr().listAttributesSync(...a);
/** setAttributeSync writes an extended attribute. */
export const setAttributeSync: XattrModule['setAttributeSync'] = (...a) => xattr().setAttributeSync(...a);

/**
 * XattrAccess says how to reach a path whose name is not UTF-8 (the addon takes UTF-8
 * strings only): isDir when it is a directory, and scratch, a directory on the same file
 * system for a temporary hard link, when the path's last component is not UTF-8 and it is
 * not a directory.
 */
export interface XattrAccess {
  isDir: boolean;
  scratch?: () => string;
}

/**
 * withXattrPath calls fn with a path the xattr addon can take that names the same inode as
 * p (a name string, core/names.ts). A UTF-8 path is passed as is. Otherwise the deepest
 * directory whose name is not UTF-8 is opened and named through /proc/self/fd (`FD/rest`, or
 * `FD/.` for the directory itself); a non-directory whose own name is not UTF-8 is reached
 * through a temporary hard link in access.scratch() (xattrs belong to the inode). The
 * l*xattr calls of the addon never follow the final component, so neither does this.
 */
export function withXattrPath<T>(p: string, access: XattrAccess, fn: (path: string) => T): T {
  if (!hasEscapes(p)) return fn(p);
  const parts = p.split('/');
  let k = parts.length - 1;
  while (!hasEscapes(parts[k]!)) k--;
  if (k < parts.length - 1 || access.isDir) {
    const fd = openSync(osPath(parts.slice(0, k + 1).join('/')), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      return fn(`/proc/self/fd/${fd}/${k < parts.length - 1 ? parts.slice(k + 1).join('/') : '.'}`);
    } finally {
      closeSync(fd);
    }
  }
  if (!access.scratch) throw new TsbuildError('IO', `extended attributes of "${displayName(p)}": no scratch directory to reach a name that is not UTF-8`);
  const link = `${access.scratch()}/xattr-${randomBytes(8).toString('hex')}`;
  linkSync(osPath(p), link);
  try {
    return fn(link);
  } finally {
    unlinkSync(link);
  }
}
