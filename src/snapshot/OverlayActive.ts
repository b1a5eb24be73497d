import { mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TsbuildError } from '../core/errors.ts';
import { bindMount, isMountPoint, mountOverlay, mountView, unmount } from '../sys/mount.ts';
import { ownId } from '../store/liveness.ts';
import { FILE_MODE } from '../store/permissions.ts';
import { OWNER_FILE } from './mounts.ts';
import type { ActiveSnapshot, CommitOptions, LayerBlob } from './types.ts';

/** OverlayActiveOptions wire an active snapshot to its snapshotter. */
export interface OverlayActiveOptions {
  dir: string;
  /** cwd of mount(8), against which lowerdirs resolve. */
  snapshotsDir: string;
  /** The store's staging dir: the owner file holds this process's id there (store/liveness.ts). */
  tmpDir: string;
  /** Relative lowerdirs, top-most first; empty means merged/ is a bind mount of upper/. */
  lowerdirs: string[];
  commit: (upper: string, opts: CommitOptions) => Promise<LayerBlob | null>;
  /** Just made by prepare: nothing is mounted yet and work/ is empty (reopen does not know either). */
  fresh?: boolean;
  /** Mount with overlayfs' volatile option (see OverlaySnapshotterOptions.volatileMounts). */
  volatile?: boolean;
}

/**
 * OverlayActive is one writable snapshot: dir/upper, dir/work, dir/merged, plus
 * dir/owner naming the process that mounted it (so cleanupStaleMounts can tell
 * a crashed owner from a live one, should the mount be in our namespace). The
 * mount lives in the mount helper's namespace (sys/mount.ts): `merged` is this
 * process's view of it. After commit or remove it is spent.
 */
export class OverlayActive implements ActiveSnapshot {
  readonly dir: string;
  readonly upper: string;
  /** dir/merged as the mount namespace holding the mount sees it. */
  readonly #target: string;
  readonly #work: string;
  readonly #opts: OverlayActiveOptions;
  #spent = false;
  /** Whether merged/ is mounted, when this object knows it (it mounted or unmounted it itself); else ask the kernel. */
  #mounted: boolean | undefined;
  #workClean: boolean;

  constructor(opts: OverlayActiveOptions) {
    this.#opts = opts;
    this.dir = opts.dir;
    this.upper = join(opts.dir, 'upper');
    this.#target = join(opts.dir, 'merged');
    this.#work = join(opts.dir, 'work');
    this.#mounted = opts.fresh ? false : undefined;
    this.#workClean = opts.fresh ?? false;
  }

  /** merged is where this process reaches the mounted root (a view into the namespace that holds the mount). */
  get merged(): string {
    return mountView(this.#target);
  }

  #isMounted(): Promise<boolean> {
    return this.#mounted === undefined ? isMountPoint(this.#target) : Promise.resolve(this.#mounted);
  }

  async mount(): Promise<void> {
    if (this.#spent) throw new TsbuildError('INTERNAL', `mount ${this.dir}: snapshot already committed or removed`);
    if (await this.#isMounted()) return;
    await writeFile(join(this.dir, OWNER_FILE), ownId(this.#opts.tmpDir), { mode: FILE_MODE });
    if (this.#opts.lowerdirs.length === 0) await bindMount(this.upper, this.#target);
    else {
      // Overlay refuses a workdir left over from an earlier mount's crash only if it is busy; clearing it is safe.
      if (!this.#workClean) {
        await rm(this.#work, { recursive: true, force: true });
        await mkdir(this.#work);
      }
      this.#workClean = false;
      await mountOverlay({ lowerdirs: this.#opts.lowerdirs, upperdir: this.upper, workdir: this.#work, target: this.#target, cwd: this.#opts.snapshotsDir, volatile: this.#opts.volatile ?? false });
    }
    this.#mounted = true;
  }

  async unmount(): Promise<void> {
    if (this.#mounted === false) return;
    await unmount(this.#target);
    this.#mounted = false;
    await unlink(join(this.dir, OWNER_FILE)).catch(() => undefined);
  }

  async commit(opts: CommitOptions = {}): Promise<LayerBlob | null> {
    if (this.#spent) throw new TsbuildError('INTERNAL', `commit ${this.dir}: snapshot already committed or removed`);
    await this.unmount();
    const layer = await this.#opts.commit(this.upper, opts);
    this.#spent = layer !== null;
    return layer;
  }

  async remove(later?: { remove(path: string): void }): Promise<void> {
    this.#spent = true;
    await this.unmount();
    // Never delete through a live mount: that would reach into someone's files.
    if (await this.#isMounted()) throw new TsbuildError('MOUNT', `remove ${this.dir}: ${this.#target} is still mounted`);
    if (later) later.remove(this.dir);
    else await rm(this.dir, { recursive: true, force: true });
  }
}
