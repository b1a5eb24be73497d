import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { StoreDamage } from '../../../src/core/damage.ts';
import type { DiffID } from '../../../src/core/digest.ts';
import { checkSnapshots } from '../../../src/snapshot/checkSnapshots.ts';
import { OverlaySnapshotter } from '../../../src/snapshot/OverlaySnapshotter.ts';
import type { LayerBlob } from '../../../src/snapshot/types.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { LocalStore } from '../../../src/store/types.ts';
import { destroyRoot, tempRoot } from './helpers.ts';

// After an OS crash, a snapshot's small metadata files may come back empty, cut or full of
// garbage. Such a snapshot used to stop every build that needed it with STORE_CORRUPT; it is
// now removed with one report, and extracted again from its blob.

let root: string;
let store: LocalStore;
let damage: StoreDamage[];
let snaps: OverlaySnapshotter;

beforeEach(async () => {
  root = await tempRoot('heal');
  store = await openStore(root);
  damage = [];
  snaps = new OverlaySnapshotter({ root, store: store.content, onDamage: (d) => damage.push(d) });
});
afterEach(async () => { await destroyRoot(root); });

async function layer(): Promise<LayerBlob> {
  const dir = join(store.dirs.tmp, 'fill');
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'etc/motd'), 'hello\n');
  const l = await snaps.commitDir(dir);
  if (!l) throw new Error('empty layer');
  return l;
}

const snapDir = (d: DiffID) => join(root, 'snapshots', OverlaySnapshotter.snapshotName(d));

/** The ways a crash (or a stray write) damages a snapshot's metadata, and the problem reported. */
const DAMAGE: Array<[string, (dir: string, l: LayerBlob) => void, RegExp]> = [
  ['diffid truncated to 0 bytes', (d) => truncateSync(join(d, 'diffid'), 0), /diffid file is empty/],
  ['diffid cut in half', (d, l) => writeFileSync(join(d, 'diffid'), `${l.diffID.slice(0, 40)}`), /holds no DiffID/],
  ['diffid garbage', (d) => writeFileSync(join(d, 'diffid'), Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 0, 7])), /holds no DiffID/],
  ['diffid of a layer with another prefix', (d) => writeFileSync(join(d, 'diffid'), `sha256:${'0'.repeat(64)}\n`), /names another layer/],
  ['diffid missing', (d) => rmSync(join(d, 'diffid')), /no diffid file/],
  ['fs/ missing', (d) => rmSync(join(d, 'fs'), { recursive: true }), /no fs\/ directory/],
  ['unsynced marker of another boot', (d) => writeFileSync(join(d, 'unsynced'), 'another-boot\n'), /OS crash/],
  ['unsynced marker truncated to 0 bytes', (d) => writeFileSync(join(d, 'unsynced'), ''), /OS crash/],
];

describe('a snapshot with damaged metadata is healed', () => {
  test.each(DAMAGE)('%s: removed, reported once, extracted again', async (_name, harm, problem) => {
    const l = await layer();
    const dir = snapDir(l.diffID);
    expect(readFileSync(join(dir, 'fs/etc/motd'), 'utf8')).toBe('hello\n');
    harm(dir, l);
    const fresh = new OverlaySnapshotter({ root, store: store.content, onDamage: (d) => damage.push(d) });
    expect(await fresh.has(l.diffID)).toBe(false);
    expect(damage).toHaveLength(1);
    expect(damage[0]).toMatchObject({ what: `snapshot ${OverlaySnapshotter.snapshotName(l.diffID)}`, problem: expect.stringMatching(problem), fixed: true });
    await fresh.ensure(l.diffID, () => store.content.open(l.digest));
    expect(readFileSync(join(fresh.layerDir(l.diffID), 'etc/motd'), 'utf8')).toBe('hello\n');
    expect(await new OverlaySnapshotter({ root, store: store.content }).has(l.diffID)).toBe(true);
    expect(damage).toHaveLength(1);
    expect(readdirSync(store.dirs.tmp).filter((n) => n !== 'locks' && n !== 'live')).toEqual([]);
  });

  test('ensure installs over a damaged snapshot in its way (no diffid: has() alone would not find it)', async () => {
    const l = await layer();
    rmSync(join(snapDir(l.diffID), 'diffid'));
    const fresh = new OverlaySnapshotter({ root, store: store.content, onDamage: (d) => damage.push(d) });
    await fresh.ensure(l.diffID, () => store.content.open(l.digest));
    expect(readFileSync(join(snapDir(l.diffID), 'diffid'), 'utf8').trim()).toBe(l.diffID);
    expect(damage.map((d) => d.problem)).toEqual(['no diffid file']);
  });

  test('a true prefix collision (same 16 hex digits, another DiffID) is still an error', async () => {
    const l = await layer();
    const other = `${l.diffID.slice(0, 7 + 16)}${'0'.repeat(48)}`;
    writeFileSync(join(snapDir(l.diffID), 'diffid'), `${other}\n`);
    const fresh = new OverlaySnapshotter({ root, store: store.content });
    await expect(fresh.has(l.diffID)).rejects.toMatchObject({ code: 'STORE_CORRUPT', message: expect.stringMatching(/share the first 16 hex digits/) });
  });
});

describe('checkSnapshots (fsck)', () => {
  test('reports damaged metadata; repairs only when asked', async () => {
    const a = await layer();
    truncateSync(join(snapDir(a.diffID), 'diffid'), 0);
    mkdirSync(join(root, 'snapshots', 'leftover'));
    const dry: StoreDamage[] = [];
    expect(await checkSnapshots(root, { repair: false, onDamage: (d) => dry.push(d) })).toEqual({ snapshots: 1, compared: 0 });
    expect(dry.map((d) => [d.what, d.fixed]).sort()).toEqual([['snapshot ' + OverlaySnapshotter.snapshotName(a.diffID), false], ['snapshots/leftover', false]]);
    expect(existsSync(snapDir(a.diffID))).toBe(true);
    const fixed: StoreDamage[] = [];
    await checkSnapshots(root, { repair: true, onDamage: (d) => fixed.push(d) });
    expect(fixed.every((d) => d.fixed)).toBe(true);
    expect(readdirSync(join(root, 'snapshots'))).toEqual([]);
    const again: StoreDamage[] = [];
    await checkSnapshots(root, { repair: true, onDamage: (d) => again.push(d) });
    expect(again).toEqual([]);
  });

  test('with openLayer, compares every file with the layer: a file torn inside fs/ is found', async () => {
    const l = await layer();
    const open = (id: DiffID) => (id === l.diffID ? () => store.content.open(l.digest) : undefined);
    const sound: StoreDamage[] = [];
    expect(await checkSnapshots(root, { repair: true, onDamage: (d) => sound.push(d), openLayer: open })).toEqual({ snapshots: 1, compared: 1 });
    expect(sound).toEqual([]);
    // Metadata intact, content not: only the comparison can tell.
    writeFileSync(join(snapDir(l.diffID), 'fs/etc/motd'), 'hellO\n');
    const found: StoreDamage[] = [];
    await checkSnapshots(root, { repair: true, onDamage: (d) => found.push(d), openLayer: open });
    expect(found).toMatchObject([{ problem: 'etc/motd: other content', fixed: true }]);
    expect(existsSync(snapDir(l.diffID))).toBe(false);
  });
});
