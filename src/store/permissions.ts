// The store is closed to other users. A layer may hold a setuid-root binary, and a
// store that others can traverse lets any local user run it (uid=nobody, euid=root:
// Docker's CVE-2021-41091, where /var/lib/docker was 0711). So:
//
//  - the root is 0700 and owned by the user running tsbuild; nothing under it is
//    reachable by anyone else, whatever the modes below it;
//  - behind that, the store's own directories are 0700 and its own files 0600
//    (blobs, index.json, records, locks, markers, the stat cache), so that a root
//    loosened by hand still exposes no metadata;
//  - content keeps the modes its image or user gives it (the trees of snapshots/<id>/fs,
//    a container's upper/, the trees of RUN --mount=type=cache): that is data, and it
//    is reachable only through the root.
//
// 0700 rather than Docker's 0710 (root:<remapped group>): tsbuild does not remap
// container users into a user namespace, so no other uid or group ever has to walk
// the store; runc and the unshare executor resolve every path as root before they
// switch to the container's user.
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TsbuildError, isErrno } from '../core/errors.ts';
import type { StoreDirs } from './types.ts';

/** DIR_MODE is the mode of every directory the store makes for itself. */
export const DIR_MODE = 0o700;

/** FILE_MODE is the mode of every file the store writes for itself (blobs, JSON records, locks, markers). */
export const FILE_MODE = 0o600;

/**
 * secureRoot makes dirs.root the private directory of the effective user: created
 * 0700 if absent; if present, it must be a directory owned by that user, and a mode
 * other than 0700 (a store made by an earlier version: 0711 with 0755 directories and
 * 0644 files) is tightened, the rest of the store first and the root last, so that an
 * interrupted pass is done again. A store already private costs one stat.
 */
export async function secureRoot(dirs: StoreDirs): Promise<void> {
  let st = await stat(dirs.root).catch((e: unknown) => {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  });
  if (!st) {
    await mkdir(dirs.root, { recursive: true, mode: DIR_MODE });
    st = await stat(dirs.root);
  }
  if (!st.isDirectory()) throw new TsbuildError('USAGE', `store ${dirs.root}: not a directory`, { hint: 'use --root with a directory of your own' });
  const uid = process.geteuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new TsbuildError('USAGE', `store ${dirs.root}: owned by uid ${st.uid}, not by uid ${uid} running tsbuild`, {
      hint: 'its owner could change what tsbuild reads and runs; use --root with a directory of your own',
    });
  }
  if ((st.mode & 0o7777) === DIR_MODE) return;
  await tightenStore(dirs);
  await chmod(dirs.root, DIR_MODE);
}

/**
 * tightenStore gives the store's own directories DIR_MODE and its own files FILE_MODE
 * (the layout of openStore and what the modules keep in cache/, snapshots/, containers/,
 * tmp/locks and unsynced/), leaving content trees alone. Symbolic links are never
 * followed (dirents are not stat'ed through); nobody else could have planted one, as
 * no directory of the store was ever writable by others.
 */
async function tightenStore(dirs: StoreDirs): Promise<void> {
  await Promise.all([
    tightenTree(dirs.oci),
    tightenTree(dirs.cache, (rel) => rel.startsWith('mounts/')),
    tightenTree(join(dirs.root, 'unsynced')),
    tightenTree(dirs.tmp, (rel) => rel !== 'locks' && !rel.startsWith('locks/')),
    // snapshots/<id>/{diffid,unsynced} are the store's, snapshots/<id>/fs is the layer.
    tightenTree(dirs.snapshots, (rel) => rel.split('/').length > 1 && !/^[^/]+\/(diffid|unsynced)$/.test(rel)),
    // containers/<id>/ holds the record and the log; its upper/, work/, merged/ and bundle are the container's.
    tightenTree(dirs.containers, (rel) => rel.split('/').length > 1 && !/^[^/]+\/[^/]+\.(json|log)$/.test(rel)),
  ]);
}

/** tightenTree chmods dir and every entry below it that skip (given the path relative to dir) does not exclude. */
async function tightenTree(dir: string, skip: (rel: string) => boolean = () => false, rel = ''): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return;
    throw e;
  }
  await chmod(dir, DIR_MODE);
  const files: string[] = [];
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (skip(r)) continue;
    if (e.isDirectory()) await tightenTree(join(dir, e.name), skip, r);
    else if (e.isFile()) files.push(join(dir, e.name));
  }
  // A store may hold many thousand blobs: a bounded number of chmods in flight.
  for (let i = 0; i < files.length; i += 64) {
    await Promise.all(files.slice(i, i + 64).map((f) => chmod(f, FILE_MODE).catch((e: unknown) => { if (!isErrno(e, 'ENOENT')) throw e; })));
  }
}
