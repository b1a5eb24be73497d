import { mkdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ignoreDamage, type OnDamage } from '../core/damage.ts';
import { hexOf, type DiffID } from '../core/digest.ts';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { tmpName } from '../store/atomicFile.ts';
import { bootId, type DeferredSync } from '../store/deferredSync.ts';
import { DIR_MODE, FILE_MODE } from '../store/permissions.ts';
import { syncFsLater } from '../sys/mount.ts';
import type { ContentStore } from '../store/types.ts';
import type { CommitDirOptions, LayerAdopter } from './dirLayer.ts';
import { OverlayActive } from './OverlayActive.ts';
import { DIFFID_FILE, UNSYNCED_FILE, checkSnapshotDir, dropSnapshot } from './snapshotMeta.ts';
import type { TarTree, TreeTarOptions } from './treeTar.ts';
import type { ActiveSnapshot, LayerBlob, Snapshotter } from './types.ts';

/** OverlaySnapshotterOptions: root is the store root (ROOT/snapshots and ROOT/tmp are used). */
export interface OverlaySnapshotterOptions {
  root: string;
  store: ContentStore;
  /**
   * Mount active snapshots with overlayfs' `volatile` (no syncs of the upper dir). For build
   * steps, whose upper dirs become snapshots that sync() makes durable at the end of the build;
   * not for containers, whose upper dir is the user's data.
   */
  volatileMounts?: boolean;
  /**
   * The store's DeferredSync: sync() then only hands its markers over, and the owner of the
   * DeferredSync flushes once for blobs and snapshots together, after the image is written.
   */
  deferred?: DeferredSync;
  /** Told about each damaged snapshot found (and removed, to be extracted again): a build warns. */
  onDamage?: OnDamage;
}

/**
 * OverlaySnapshotter keeps each layer extracted once, in overlay form, as
 * ROOT/snapshots/<first 16 hex of its DiffID>/fs (with a `diffid` file beside
 * fs/ to detect a prefix collision), and mounts overlays over them. Layers are
 * extracted into ROOT/tmp and renamed into place, so a half-extracted layer is
 * never seen. The short relative names keep 130+ lowerdirs within the kernel's
 * one-page limit on mount options (mount runs with cwd = ROOT/snapshots).
 */
export class OverlaySnapshotter implements Snapshotter, LayerAdopter {
  readonly snapshotsDir: string;
  readonly tmpDir: string;
  readonly #store: ContentStore;
  readonly #inflight = new Map<string, Promise<void>>();
  /** Snapshots seen installed by this process: they are immutable and never removed, so one check is enough. */
  readonly #present = new Set<string>();
  readonly #volatile: boolean;
  readonly #deferred: DeferredSync | undefined;
  readonly #onDamage: OnDamage;
  readonly #trees = new Map<DiffID, TarTree>();
  /** `unsynced` markers of the snapshots installed since the last sync(). */
  #unsynced: string[] = [];

  constructor(opts: OverlaySnapshotterOptions) {
    this.snapshotsDir = join(opts.root, 'snapshots');
    this.tmpDir = join(opts.root, 'tmp');
    this.#store = opts.store;
    this.#volatile = opts.volatileMounts ?? false;
    this.#deferred = opts.deferred;
    this.#onDamage = opts.onDamage ?? ignoreDamage;
  }

  /**
   * sync makes the snapshots installed so far durable without waiting for the disk: a
   * detached process syncs the file system, then deletes their `unsynced` markers. Until
   * then a snapshot is trusted only within the boot that made it (see has()). With the
   * store's DeferredSync, the markers are handed to it and its owner flushes.
   */
  async sync(): Promise<void> {
    if (this.#unsynced.length === 0) return;
    const done = this.#unsynced;
    this.#unsynced = [];
    if (this.#deferred) this.#deferred.note(...done);
    else await syncFsLater(this.snapshotsDir, done);
  }

  /** snapshotName is the directory name of a layer under ROOT/snapshots. */
  static snapshotName(diffID: DiffID): string {
    return hexOf(diffID).slice(0, 16);
  }

  /** lowerdir is a layer's fs dir relative to snapshotsDir (what goes in lowerdir=). */
  static lowerdir(diffID: DiffID): string {
    return `${OverlaySnapshotter.snapshotName(diffID)}/fs`;
  }

  /** layerDir is the absolute path of a layer's extracted tree. */
  layerDir(diffID: DiffID): string {
    return join(this.snapshotsDir, OverlaySnapshotter.lowerdir(diffID));
  }

  /**
   * has tells whether the layer is extracted. A damaged snapshot (checkSnapshotDir: its
   * `diffid` empty, cut or garbage, no fs/, or an `unsynced` marker of another boot, so
   * never made durable before the machine went down) is removed and reported to onDamage:
   * whoever needs it extracts it again from its blob. Only a true prefix collision (another
   * layer's DiffID with the same first 16 hex digits) is an error.
   */
  async has(diffID: DiffID): Promise<boolean> {
    if (this.#present.has(diffID)) return true;
    const name = OverlaySnapshotter.snapshotName(diffID);
    const dir = join(this.snapshotsDir, name);
    const check = await checkSnapshotDir(dir, name);
    switch (check.kind) {
      case 'absent':
        return false;
      case 'damaged':
        await dropSnapshot(dir, name, this.tmpDir);
        this.#onDamage({ what: `snapshot ${name}`, problem: check.problem, action: 'removed; extracted again from its layer', fixed: true });
        return false;
      case 'sound':
        if (check.diffID !== diffID) throw new TsbuildError('STORE_CORRUPT', `snapshot ${dir} holds layer ${check.diffID}, not ${diffID}: two layers share the first 16 hex digits of their DiffID`);
        this.#present.add(diffID);
        return true;
    }
  }

  async ensure(diffID: DiffID, open: () => Readable): Promise<void> {
    const key = diffID as string;
    let p = this.#inflight.get(key);
    if (!p) {
      p = this.#extract(diffID, open).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    return p;
  }

  async #extract(diffID: DiffID, open: () => Readable): Promise<void> {
    if (await this.has(diffID)) return;
    const stage = tmpName(this.tmpDir, 'extract');
    await mkdir(stage, { mode: DIR_MODE });
    await mkdir(join(stage, 'fs'));
    try {
      const { applyLayer } = await import('./applyLayer.ts');
      const got = await applyLayer(open(), join(stage, 'fs'), { whiteouts: 'overlay' });
      if (got.diffID !== diffID) throw new TsbuildError('DIGEST_MISMATCH', `extract layer: got DiffID ${got.diffID}, expected ${diffID}`);
      await this.#install(stage, diffID);
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  }

  /**
   * install renames a staged `<stage>/fs` into place; losing a race to another process is
   * fine. A damaged snapshot in the way is removed by has(), and the rename tried again.
   */
  async #install(stage: string, diffID: DiffID): Promise<void> {
    await Promise.all([writeFile(join(stage, DIFFID_FILE), `${diffID}\n`, { mode: FILE_MODE }), writeFile(join(stage, UNSYNCED_FILE), `${bootId()}\n`, { mode: FILE_MODE })]);
    const dir = join(this.snapshotsDir, OverlaySnapshotter.snapshotName(diffID));
    for (let attempt = 0; ; attempt++) {
      try {
        await rename(stage, dir);
        this.#unsynced.push(join(dir, UNSYNCED_FILE));
        this.#present.add(diffID);
        return;
      } catch (e) {
        if (!isErrno(e, 'ENOTEMPTY') && !isErrno(e, 'EEXIST')) throw e;
        if (await this.has(diffID)) return;
        if (attempt > 0) throw e;
      }
    }
  }

  /**
   * adopt moves dir (a committed upper dir) into the snapshots as layer's
   * extracted form: its whiteouts and opaque xattrs are already in overlay form.
   * If dir is on another file system, the layer is extracted from the store instead.
   */
  async adopt(dir: string, layer: LayerBlob): Promise<void> {
    if (await this.has(layer.diffID)) {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    const stage = tmpName(this.tmpDir, 'snap');
    await mkdir(stage, { mode: DIR_MODE });
    try {
      await rename(dir, join(stage, 'fs'));
      await this.#install(stage, layer.diffID);
    } catch (e) {
      if (!isErrno(e, 'EXDEV')) throw e;
      await this.ensure(layer.diffID, () => this.#store.open(layer.digest));
      await rm(dir, { recursive: true, force: true });
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  }

  /** commitDir commits a plain directory (e.g. what COPY wrote) as a layer and adopts it. */
  commitDir(dir: string, opts: CommitDirOptions = {}): Promise<LayerBlob | null> {
    return commitDirLazily(this.#store, dir, { ...opts, adopt: this });
  }

  /**
   * commitTree stores a layer described in memory (a COPY's plan) as a blob only: no snapshot
   * directory is made, so a COPY that no later step mounts is never extracted; a step that
   * mounts it extracts it from the blob (ensure). Null for a tree with no entry.
   */
  async commitTree(tree: TarTree, opts: TreeTarOptions = {}): Promise<LayerBlob | null> {
    const { commitTree } = await import('./treeTar.ts');
    const layer = await commitTree(this.#store, tree, opts);
    if (layer) this.#trees.set(layer.diffID, tree);
    return layer;
  }

  /**
   * tree is the in-memory description of a layer this process committed with commitTree, if
   * any: a later COPY reads the image below it from there (which paths exist, as what) rather
   * than extracting the layer.
   */
  tree(diffID: DiffID): TarTree | undefined {
    return this.#trees.get(diffID);
  }

  async prepare(dir: string, parents: readonly DiffID[]): Promise<ActiveSnapshot> {
    for (const p of parents) {
      if (!(await this.has(p))) throw new TsbuildError('INTERNAL', `prepare ${dir}: parent layer ${p} is not extracted`);
    }
    await mkdir(dir, { mode: DIR_MODE });
    for (const d of ['upper', 'work', 'merged']) await mkdir(join(dir, d));
    return this.#active(await realpath(dir), parents, true);
  }

  async reopen(dir: string, parents: readonly DiffID[]): Promise<ActiveSnapshot> {
    const st = await stat(join(dir, 'upper')).catch(() => undefined);
    if (!st?.isDirectory()) throw new TsbuildError('INTERNAL', `reopen ${dir}: not a prepared snapshot (no upper/)`);
    return this.#active(await realpath(dir), parents);
  }

  #active(dir: string, parents: readonly DiffID[], fresh = false): OverlayActive {
    return new OverlayActive({
      dir,
      fresh,
      volatile: this.#volatile,
      snapshotsDir: this.snapshotsDir,
      tmpDir: this.tmpDir,
      lowerdirs: [...parents].reverse().map((p) => OverlaySnapshotter.lowerdir(p)),
      commit: (upper, opts) => commitDirLazily(this.#store, upper, { ...opts, adopt: this }),
    });
  }
}

/** commitDirLazily loads the tar writer only when a layer is really written (a cached build writes none). */
async function commitDirLazily(store: ContentStore, dir: string, opts: CommitDirOptions): Promise<LayerBlob | null> {
  const { commitDir } = await import('./dirLayer.ts');
  return commitDir(store, dir, opts);
}
