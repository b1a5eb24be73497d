import { setAttributeSync } from '@napi-rs/xattr';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { DiffID } from '../../../src/core/digest.ts';
import { applyLayer } from '../../../src/snapshot/applyLayer.ts';
import { commitDir } from '../../../src/snapshot/dirLayer.ts';
import { cleanupStaleMounts } from '../../../src/snapshot/mounts.ts';
import { OverlaySnapshotter } from '../../../src/snapshot/OverlaySnapshotter.ts';
import type { LayerBlob } from '../../../src/snapshot/types.ts';
import { ownId } from '../../../src/store/liveness.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { LocalStore } from '../../../src/store/types.ts';
import { MOUNT_DATA_MAX, isMountPoint, namespacePath, overlayOptions } from '../../../src/sys/mount.ts';
import { mountsUnder } from '../../helpers/cli.ts';
import { isRoot, makeBusyboxRootfs } from '../../helpers/rootfs.ts';
import { destroyRoot, tempRoot } from './helpers.ts';
import { snapshotTree } from './tree.ts';

let root: string;
let store: LocalStore;
let snaps: OverlaySnapshotter;
beforeEach(async () => {
  root = await tempRoot('overlay');
  store = await openStore(root);
  snaps = new OverlaySnapshotter({ root, store: store.content });
});
afterEach(async () => { await destroyRoot(root); });

/** layerFrom commits a directory filled by fill() as a layer and adopts it. */
async function layerFrom(fill: (dir: string) => void): Promise<LayerBlob> {
  const dir = join(store.dirs.tmp, `fill-${Math.random().toString(16).slice(2)}`);
  mkdirSync(dir);
  fill(dir);
  const l = await snaps.commitDir(dir);
  if (!l) throw new Error('empty layer');
  return l;
}

/** extractAll rebuilds a rootfs the plain way: every layer blob applied in 'delete' mode, base first. */
async function extractAll(layers: LayerBlob[], dir: string): Promise<void> {
  mkdirSync(dir);
  for (const l of layers) await applyLayer(store.content.open(l.digest), dir, { whiteouts: 'delete' });
}

describe.runIf(isRoot)('OverlaySnapshotter', () => {
  test('round trip: changes in a mounted overlay become a layer equal to the plain extraction', async () => {
    const base = await layerFrom((d) => {
      makeBusyboxRootfs(d);
      mkdirSync(join(d, 'data/old'), { recursive: true });
      writeFileSync(join(d, 'data/old/file'), 'old');
      writeFileSync(join(d, 'data/gone'), 'bye');
    });
    expect(await snaps.has(base.diffID)).toBe(true);
    const active = await snaps.prepare(join(root, 'c1'), [base.diffID]);
    await active.mount();
    await active.mount(); // idempotent
    const m = active.merged;
    writeFileSync(join(m, 'new.txt'), 'new');
    appendFileSync(join(m, 'etc/passwd'), 'extra:x:2000:2000::/:/bin/sh\n');
    rmSync(join(m, 'bin/ls'));
    rmSync(join(m, 'data/gone'));
    chmodSync(join(m, 'etc/group'), 0o600);
    chownSync(join(m, 'etc/passwd'), 1000, 1000);
    symlinkSync('/etc/passwd', join(m, 'lnk'));
    writeFileSync(join(m, 'hl1'), 'shared');
    linkSync(join(m, 'hl1'), join(m, 'hl2'));
    writeFileSync(join(m, 'bin/suidprog'), '#!/bin/sh\n');
    chmodSync(join(m, 'bin/suidprog'), 0o4755);
    rmSync(join(m, 'data'), { recursive: true }); // removed ...
    mkdirSync(join(m, 'data')); // ... and recreated: opaque
    writeFileSync(join(m, 'data/fresh'), 'fresh');
    rmSync(join(m, 'tmp'), { recursive: true });
    mkdirSync(join(m, 'deep/er/est'), { recursive: true });
    writeFileSync(join(m, 'deep/er/est/f'), 'f');
    execFileSync('mkfifo', [join(m, 'fifo')]);
    writeFileSync(join(m, 'xattr'), 'x');
    setAttributeSync(join(m, 'xattr'), 'user.color', 'blue');
    writeFileSync(join(m, 'etc/resolv.conf'), ''); // a runtime's mount-point stub
    utimesSync(join(m, 'etc'), 1e9, 1e9); // dropping the stub must not touch this
    const seen = snapshotTree(m, { skip: (r) => r === 'etc/resolv.conf' });
    const upperIno = statSync(join(active.upper, 'new.txt')).ino;

    const layer = await active.commit({ stubs: ['etc/resolv.conf'] });
    expect(layer).not.toBeNull();
    expect(layer!.diffID).toBe(layer!.digest);
    expect(await isMountPoint(m)).toBe(false);
    // The upper dir itself became the layer's snapshot: same inode, no re-extraction.
    expect(await snaps.has(layer!.diffID)).toBe(true);
    expect(statSync(join(snaps.layerDir(layer!.diffID), 'new.txt')).ino).toBe(upperIno);
    expect(existsSync(active.upper)).toBe(false);
    await active.remove();

    const plain = join(root, 'plain');
    await extractAll([base, layer!], plain);
    expect(snapshotTree(plain)).toEqual(seen);

    const again = await snaps.prepare(join(root, 'c2'), [base.diffID, layer!.diffID]);
    await again.mount();
    expect(snapshotTree(again.merged)).toEqual(seen);
    await again.remove();
    expect(existsSync(join(root, 'c2'))).toBe(false);
  });

  test('commit of an unchanged snapshot is null', async () => {
    const base = await layerFrom((d) => writeFileSync(join(d, 'a'), 'a'));
    const active = await snaps.prepare(join(root, 'c'), [base.diffID]);
    await active.mount();
    expect(await active.commit()).toBeNull();
    await active.remove();
  });

  test('no parents: merged is a bind mount of upper', async () => {
    const active = await snaps.prepare(join(root, 'c'), []);
    await active.mount();
    // The mount lives in the perl server's namespace; merged is our view of it.
    expect(await isMountPoint(namespacePath(active.merged).path)).toBe(true);
    expect(mountsUnder(root)).toEqual([]);
    writeFileSync(join(active.merged, 'only'), 'x');
    const layer = await active.commit();
    expect(readFileSync(join(snaps.layerDir(layer!.diffID), 'only'), 'utf8')).toBe('x');
    await active.remove();
  });

  test('130 layers mount with relative lowerdirs in under one page of options', async () => {
    const layers: DiffID[] = [];
    for (let i = 0; i < 130; i++) {
      layers.push((await layerFrom((d) => {
        writeFileSync(join(d, `layer${i}`), String(i));
        writeFileSync(join(d, 'top'), String(i));
      })).diffID);
    }
    const lowerdirs = [...layers].reverse().map((d) => OverlaySnapshotter.lowerdir(d));
    const opts = overlayOptions({ lowerdirs, upperdir: join(root, 'c/upper'), workdir: join(root, 'c/work'), target: join(root, 'c/merged') });
    expect(Buffer.byteLength(opts)).toBeLessThan(MOUNT_DATA_MAX);
    const active = await snaps.prepare(join(root, 'c'), layers);
    await active.mount();
    expect(readdirSync(active.merged)).toHaveLength(131);
    expect(readFileSync(join(active.merged, 'top'), 'utf8')).toBe('129'); // top-most layer wins
    expect(readFileSync(join(active.merged, 'layer0'), 'utf8')).toBe('0');
    await active.remove();
  });

  test('reopen continues a snapshot prepared elsewhere', async () => {
    const base = await layerFrom((d) => writeFileSync(join(d, 'a'), 'a'));
    const first = await snaps.prepare(join(root, 'c'), [base.diffID]);
    await first.mount();
    writeFileSync(join(first.merged, 'b'), 'b');
    await first.unmount();
    const later = await new OverlaySnapshotter({ root, store: store.content }).reopen(join(root, 'c'), [base.diffID]);
    await later.mount();
    expect(readdirSync(later.merged).sort()).toEqual(['a', 'b']);
    const layer = await later.commit();
    expect(readdirSync(snaps.layerDir(layer!.diffID))).toEqual(['b']);
    await later.remove();
    await expect(snaps.reopen(join(root, 'nope'), [])).rejects.toThrow(/not a prepared snapshot/);
  });

  test('prepare refuses a parent that is not extracted, and an existing dir', async () => {
    await expect(snaps.prepare(join(root, 'c'), ['sha256:' + 'a'.repeat(64) as DiffID])).rejects.toThrow(/not extracted/);
    mkdirSync(join(root, 'exists'));
    await expect(snaps.prepare(join(root, 'exists'), [])).rejects.toThrow(/EEXIST/);
  });

  test('ensure extracts a stored layer (gzip too) once, and checks its DiffID', async () => {
    const src = join(root, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'f'), 'content');
    const layer = (await commitDir(store.content, src))!;
    expect(await snaps.has(layer.diffID)).toBe(false);
    const gz = gzipSync(await store.content.readBytes(layer.digest));
    await Promise.all([1, 2, 3].map(() => snaps.ensure(layer.diffID, () => Readable.from([gz]))));
    expect(readFileSync(join(snaps.layerDir(layer.diffID), 'f'), 'utf8')).toBe('content');
    await snaps.ensure(layer.diffID, () => { throw new Error('must not reopen'); });
    const wrong = 'sha256:' + 'b'.repeat(64) as DiffID;
    await expect(snaps.ensure(wrong, () => store.content.open(layer.digest))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await snaps.has(wrong)).toBe(false);
    expect(readdirSync(store.dirs.tmp).filter((n) => n !== 'locks' && n !== 'live')).toEqual([]);
  });

  test('cleanupStaleMounts unmounts what dead owners left in our namespace, not what live ones hold', async () => {
    const base = await layerFrom((d) => writeFileSync(join(d, 'a'), 'a'));
    const dead = await snaps.prepare(join(root, 'containers/dead'), [base.diffID]);
    const live = await snaps.prepare(join(root, 'containers/live'), [base.diffID]);
    // Mounts in our own namespace are what older versions left (ours live in a helper's namespace).
    const mergedOf = (name: string) => join(root, 'containers', name, 'merged');
    for (const name of ['dead', 'live']) execFileSync('mount', ['--bind', join(root, 'containers', name, 'upper'), mergedOf(name)]);
    await writeFile(join(root, 'containers/dead/owner'), '0123456789abcdef'); // an owner id nothing listens for
    await writeFile(join(root, 'containers/live/owner'), ownId(join(root, 'tmp')));
    expect(await cleanupStaleMounts(root)).toEqual([mergedOf('dead')]);
    expect(mountsUnder(root)).toEqual([mergedOf('live')]);
    execFileSync('umount', [mergedOf('live')]);
    await dead.remove();
    await live.remove();
  });

  test('volatileMounts mounts build snapshots with overlayfs volatile; the default (containers) does not', async () => {
    const base = await layerFrom((d) => writeFileSync(join(d, 'f'), 'x'));
    const superOptions = async (view: string) => {
      const { path, pid } = namespacePath(view);
      const line = (await readFile(`/proc/${pid ?? 'self'}/mountinfo`, 'utf8')).split('\n').find((l) => l.split(' ')[4] === path);
      return line?.split(' - ')[1]?.split(' ')[2] ?? '';
    };
    const plain = await snaps.prepare(join(root, 'plain'), [base.diffID]);
    await plain.mount();
    expect(await superOptions(plain.merged)).toMatch(/upperdir=/);
    expect(await superOptions(plain.merged)).not.toMatch(/volatile/);
    await plain.remove();
    const building = new OverlaySnapshotter({ root, store: store.content, volatileMounts: true });
    const v = await building.prepare(join(root, 'volatile'), [base.diffID]);
    await v.mount();
    expect(await superOptions(v.merged)).toMatch(/(^|,)(fsync=)?volatile(,|$)/);
    writeFileSync(join(v.merged, 'g'), 'y');
    const layer = await v.commit();
    expect(existsSync(join(building.layerDir(layer!.diffID), 'g'))).toBe(true);
    await building.sync(); // one syncfs for what the snapshotter installed
    await building.sync(); // and nothing when there is nothing new
  });

  test('a snapshot is marked unsynced until a sync, made by a detached process, has made it durable', async () => {
    const layer = await layerFrom((d) => writeFileSync(join(d, 'f'), 'x'));
    const marker = join(snaps.snapshotsDir, OverlaySnapshotter.snapshotName(layer.diffID), 'unsynced');
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    expect(readFileSync(marker, 'utf8').trim()).toBe(boot);
    await snaps.sync();
    for (let i = 0; i < 250 && existsSync(marker); i++) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(marker), 'the detached sync deleted the marker').toBe(false);
    expect(await new OverlaySnapshotter({ root, store: store.content }).has(layer.diffID)).toBe(true);
  });

  test('a snapshot still marked unsynced by an earlier boot may be torn: it is dropped and extracted again from its blob', async () => {
    const layer = await layerFrom((d) => writeFileSync(join(d, 'f'), 'x'));
    const snapDir = join(snaps.snapshotsDir, OverlaySnapshotter.snapshotName(layer.diffID));
    // Same boot: trusted, marker or not.
    expect(await new OverlaySnapshotter({ root, store: store.content }).has(layer.diffID)).toBe(true);
    // What a power loss could leave: the marker of a boot that never synced, and a file lost.
    writeFileSync(join(snapDir, 'unsynced'), '00000000-0000-4000-8000-000000000000\n');
    rmSync(join(snapDir, 'fs/f'));
    const after = new OverlaySnapshotter({ root, store: store.content });
    expect(await after.has(layer.diffID)).toBe(false);
    expect(existsSync(snapDir)).toBe(false);
    await after.ensure(layer.diffID, () => store.content.open(layer.digest));
    expect(readFileSync(join(after.layerDir(layer.diffID), 'f'), 'utf8')).toBe('x');
    expect(readdirSync(store.dirs.tmp).filter((n) => n !== 'locks' && n !== 'live')).toEqual([]);
  });
});
