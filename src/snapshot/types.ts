import type { Readable } from 'node:stream';
import type { Digest, DiffID } from '../core/digest.ts';

/** LayerBlob is a layer as the content store knows it. */
export interface LayerBlob {
  diffID: DiffID;
  digest: Digest;
  size: number;
  mediaType: string;
}

/** ActiveSnapshot is a writable overlay: read-only lowers (the parent layers) plus a fresh upper dir. */
export interface ActiveSnapshot {
  /** Directory of this snapshot's state (upper/, work/, merged/). */
  readonly dir: string;
  readonly upper: string;
  /**
   * Where this process reaches the mounted root: a view into the mount namespace that holds
   * the mount (`/proc/PID/root/…`, see sys/mount.ts mountView). Executors hand the runtime
   * its namespacePath and run the container in that namespace.
   */
  readonly merged: string;
  /** mount the overlay on merged/ (idempotent). With no parents, merged is a bind of upper. */
  mount(): Promise<void>;
  /** unmount merged/ (idempotent; lazy-detaches if busy). */
  unmount(): Promise<void>;
  /**
   * commit turns upper/ into a layer: a deterministic tar (OCI whiteouts, sorted, numeric ids)
   * streamed into the content store while hashed, and upper/ itself becomes the layer's
   * snapshot (no re-extraction). Unmounts first. Returns null when upper/ holds no change.
   */
  commit(opts?: CommitOptions): Promise<LayerBlob | null>;
  /**
   * remove unmounts and deletes everything of this snapshot; with later, the unmounted
   * directory is handed to later.remove to delete instead (see solver/backgroundWork.ts).
   */
  remove(later?: { remove(path: string): void }): Promise<void>;
}

/** CommitOptions tune the layer tar. */
export interface CommitOptions {
  /** Clamp every mtime to this (seconds since epoch): SOURCE_DATE_EPOCH. */
  sourceDateEpoch?: number;
  /** Paths (relative, no leading /) of mount-point stubs the runtime created, left out when empty. */
  stubs?: string[];
  /** Stops writing the layer (the commit fails, nothing is stored) once aborted. */
  signal?: AbortSignal;
}

/** Snapshotter manages extracted layers (one directory each) and overlay mounts over them. */
export interface Snapshotter {
  /** has tells whether the layer is already extracted. */
  has(diffID: DiffID): Promise<boolean>;
  /** ensure extracts the layer (from open(), a plain, gzip or zstd tar stream) unless already there. */
  ensure(diffID: DiffID, open: () => Readable): Promise<void>;
  /** prepare creates an active snapshot over parents (base layer first) in dir (created; must not exist). */
  prepare(dir: string, parents: readonly DiffID[]): Promise<ActiveSnapshot>;
  /** reopen gives back the ActiveSnapshot of an existing dir made by prepare (for run/commit/rm across processes). */
  reopen(dir: string, parents: readonly DiffID[]): Promise<ActiveSnapshot>;
  /**
   * sync makes every snapshot this process installed durable (one syncfs of their file
   * system), since neither extraction nor volatile overlay mounts sync them one by one.
   * A no-op when nothing was installed since the last sync.
   */
  sync(): Promise<void>;
}
