import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listMounts, unmount } from '../../../src/sys/mount.ts';

/** tempRoot makes a fresh directory for one test. */
export function tempRoot(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `tsbuild-${prefix}-`));
}

/** unmountAllUnder detaches every mount below dir (deepest first), whoever owns it, then removes dir. */
export async function destroyRoot(dir: string): Promise<void> {
  const mounts = (await listMounts()).filter((m) => m.mountPoint.startsWith(`${dir}/`)).sort((a, b) => b.mountPoint.length - a.mountPoint.length);
  for (const m of mounts) await unmount(m.mountPoint);
  const left = (await listMounts()).filter((m) => m.mountPoint.startsWith(`${dir}/`));
  if (left.length) throw new Error(`still mounted: ${left.map((m) => m.mountPoint).join(', ')}`);
  await rm(dir, { recursive: true, force: true });
}
