import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { OnDamage } from '../core/damage.ts';
import type { DiffID } from '../core/digest.ts';
import { tmpName } from '../store/atomicFile.ts';
import { getAttributeSync } from '../sys/xattr.ts';
import { checkSnapshotDir, dropSnapshot } from './snapshotMeta.ts';

const NAME_RE = /^[0-9a-f]{16}$/;

/** CheckSnapshotsOptions tune checkSnapshots (`tsbuild fsck`). */
export interface CheckSnapshotsOptions {
  /** Remove what is damaged (else only report it). */
  repair: boolean;
  onDamage: OnDamage;
  /**
   * With it, every sound snapshot whose layer it can open (a plain or gzip tar stream) is
   * also compared file by file with that layer extracted afresh: slow, it reads everything.
   */
  openLayer?: (diffID: DiffID) => (() => Readable) | undefined;
}

/** CheckSnapshotsResult counts what checkSnapshots saw. */
export interface CheckSnapshotsResult {
  snapshots: number;
  /** How many were compared with their layer (openLayer). */
  compared: number;
}

/**
 * checkSnapshots checks every entry of ROOT/snapshots: its metadata (checkSnapshotDir:
 * cheap, three reads each) and, with openLayer, its files against its layer. A damaged
 * snapshot is reported and, with repair, removed: the next build that needs the layer
 * extracts it again from its blob. Anything else in snapshots/ is a leftover and goes too.
 */
export async function checkSnapshots(root: string, opts: CheckSnapshotsOptions): Promise<CheckSnapshotsResult> {
  const dir = join(root, 'snapshots');
  const tmpDir = join(root, 'tmp');
  const res: CheckSnapshotsResult = { snapshots: 0, compared: 0 };
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    if (!NAME_RE.test(name)) {
      if (opts.repair) await rm(path, { recursive: true, force: true });
      opts.onDamage({ what: `snapshots/${name}`, problem: 'not a snapshot', action: opts.repair ? 'removed' : 'would be removed', fixed: opts.repair });
      continue;
    }
    res.snapshots++;
    const check = await checkSnapshotDir(path, name);
    let problem = check.kind === 'damaged' ? check.problem : undefined;
    const open = check.kind === 'sound' ? opts.openLayer?.(check.diffID) : undefined;
    if (open) {
      res.compared++;
      problem = await compareWithLayer(join(path, 'fs'), open, tmpDir);
    }
    if (problem === undefined) continue;
    if (opts.repair) await dropSnapshot(path, name, tmpDir, check.kind === 'damaged');
    opts.onDamage({ what: `snapshot ${name}`, problem, action: opts.repair ? 'removed; extracted again from its layer when needed' : 'would be removed', fixed: opts.repair });
  }
  return res;
}

/** compareWithLayer extracts the layer into tmpDir and tells the first difference from fs (undefined: none). */
async function compareWithLayer(fs: string, open: () => Readable, tmpDir: string): Promise<string | undefined> {
  const stage = tmpName(tmpDir, 'fsck');
  await mkdir(stage);
  try {
    const { applyLayer } = await import('./applyLayer.ts');
    try {
      await applyLayer(open(), stage, { whiteouts: 'overlay' });
    } catch {
      // The layer itself is bad: that is the blob check's to report, not the snapshot's.
      return undefined;
    }
    return firstDifference(stage, fs, '');
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/**
 * firstDifference walks want (the layer extracted afresh) and got (the snapshot) and names
 * the first path where they differ in kind, mode, owner, content, link target, device or
 * opaqueness. Times are not compared: a RUN's snapshot is its upper dir, whose times
 * SOURCE_DATE_EPOCH does not clamp (only the layer's tar is).
 */
function firstDifference(want: string, got: string, rel: string): string | undefined {
  const a = readdirSync(want).sort();
  const b = readdirSync(got).sort();
  const inA = new Set(a);
  const inB = new Set(b);
  const missing = a.find((n) => !inB.has(n));
  if (missing !== undefined) return `${rel}${missing} is missing`;
  const extra = b.find((n) => !inA.has(n));
  if (extra !== undefined) return `${rel}${extra} is not in its layer`;
  for (const n of a) {
    const w = join(want, n);
    const g = join(got, n);
    const ws = lstatSync(w);
    const gs = lstatSync(g);
    const diff = entryDifference(w, ws, g, gs);
    if (diff !== undefined) return `${rel}${n}: ${diff}`;
    if (ws.isDirectory()) {
      const below = firstDifference(w, g, `${rel}${n}/`);
      if (below !== undefined) return below;
    }
  }
  return undefined;
}

function entryDifference(w: string, ws: Stats, g: string, gs: Stats): string | undefined {
  if ((ws.mode & 0o170000) !== (gs.mode & 0o170000)) return 'another kind of file';
  if (ws.uid !== gs.uid || ws.gid !== gs.gid) return `owner ${gs.uid}:${gs.gid}, its layer says ${ws.uid}:${ws.gid}`;
  if (!ws.isSymbolicLink() && (ws.mode & 0o7777) !== (gs.mode & 0o7777)) return `mode ${(gs.mode & 0o7777).toString(8)}, its layer says ${(ws.mode & 0o7777).toString(8)}`;
  if (ws.isSymbolicLink()) return readlinkSync(w) === readlinkSync(g) ? undefined : 'another link target';
  if (ws.isCharacterDevice() || ws.isBlockDevice()) return ws.rdev === gs.rdev ? undefined : 'another device';
  if (ws.isDirectory()) return opaque(w) === opaque(g) ? undefined : 'opaque in one and not the other';
  if (ws.isFile()) return ws.size !== gs.size ? `${gs.size} bytes, its layer has ${ws.size}` : sameContent(w, g, ws.size) ? undefined : 'other content';
  return undefined;
}

function opaque(dir: string): boolean {
  try {
    return getAttributeSync(dir, 'trusted.overlay.opaque')?.toString() === 'y';
  } catch {
    return false;
  }
}

function sameContent(a: string, b: string, size: number): boolean {
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  const ba = Buffer.allocUnsafe(Math.min(size, 1 << 20) || 1);
  const bb = Buffer.allocUnsafe(ba.length);
  try {
    for (let pos = 0; pos < size;) {
      const n = readSync(fa, ba, 0, ba.length, pos);
      if (n === 0 || readSync(fb, bb, 0, n, pos) !== n || !ba.subarray(0, n).equals(bb.subarray(0, n))) return false;
      pos += n;
    }
    return true;
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}
