import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive, sweepLive } from '../store/liveness.ts';
import { sweepLocks } from '../store/lock.ts';
import { listMounts, unmount } from '../sys/mount.ts';

/** OWNER_FILE sits next to a snapshot's merged/ and names the process that mounted it (its store/liveness.ts id). */
export const OWNER_FILE = 'owner';

/**
 * cleanupStaleMounts unmounts what crashed or killed tsbuild processes left
 * mounted under root in our mount namespace: every snapshot `merged/` dir (and
 * anything mounted inside it) whose sibling `owner` file names a process that is
 * gone (store/liveness.ts: in any PID namespace), or is missing. Mounts of live
 * processes on the same root, and mounts that are not a snapshot's, are left alone.
 * Deepest mounts go first. Returns what it detached. Our own mounts live in their
 * helper's namespace and die with it (sys/mount.ts mountView), so this finds only
 * what versions before that left.
 */
export async function cleanupStaleMounts(root: string): Promise<string[]> {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const mounts = (await listMounts()).filter((m) => m.mountPoint.startsWith(prefix));
  mounts.sort((a, b) => b.mountPoint.length - a.mountPoint.length);
  const done: string[] = [];
  const tmpDir = join(prefix, 'tmp');
  const alive = new Map<string, boolean>();
  for (const m of mounts) {
    const parts = m.mountPoint.slice(prefix.length).split('/');
    const i = parts.indexOf('merged');
    if (i < 0) continue;
    const snapDir = prefix + parts.slice(0, i).join('/');
    if (!alive.has(snapDir)) {
      const owner = await readFile(join(snapDir, OWNER_FILE), 'utf8').catch(() => undefined);
      alive.set(snapDir, owner !== undefined && (await isAlive(tmpDir, owner.trim())));
    }
    if (alive.get(snapDir)) continue;
    await unmount(m.mountPoint, 'ours');
    done.push(m.mountPoint);
  }
  return done;
}

/**
 * cleanupAfterDeaths removes what killed tsbuild processes left under the store, before a
 * command writes to it: mounts in our namespace first (cleanupStaleMounts), so that nothing
 * is deleted through one, then their staging in ROOT/tmp (cleanupStaleTmp).
 */
export async function cleanupAfterDeaths(dirs: { root: string; tmp: string }): Promise<void> {
  await cleanupStaleMounts(dirs.root);
  await cleanupStaleTmp(dirs.tmp);
}

/**
 * cleanupStaleTmp removes staging entries in tmpDir named `<prefix>-<owner id>-<random>`
 * (as tmpName makes them) whose owner is gone, in any PID namespace, then the dead
 * processes' lock entries (tmpDir/locks) and sockets (tmpDir/live). Other names are kept.
 * With dryRun it only lists the staging entries (`tsbuild fsck --dry-run`).
 */
export async function cleanupStaleTmp(tmpDir: string, opts: { dryRun?: boolean } = {}): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
    const m = /^[a-z]+-([0-9a-f]{16})-[0-9a-f]+$/.exec(name);
    if (!m || (await isAlive(tmpDir, m[1]!))) continue;
    if (!opts.dryRun) await rm(join(tmpDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  if (opts.dryRun) return removed;
  await sweepLocks(tmpDir);
  await sweepLive(tmpDir);
  return removed;
}
