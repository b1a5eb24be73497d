import type { Digest, DiffID } from '../core/digest.ts';
import type { EventSink } from '../events/types.ts';
import type { Executor } from '../executor/types.ts';
import type { ImageConfig } from '../oci/types.ts';
import type { Expander } from '../planner/expand.ts';
import type { ParseResult } from '../parser/types.ts';
import type { CommitOptions, LayerBlob, Snapshotter } from '../snapshot/types.ts';
import type { TarTree, TreeTarOptions } from '../snapshot/treeTar.ts';
import type { ContentStore } from '../store/types.ts';
import type { CacheStore } from '../cache/CacheStore.ts';
import type { CacheRecord } from '../cache/types.ts';
import type { Entitlement } from './entitlements.ts';

/** ResolvedImage is a base image as the solver needs it. */
export interface ResolvedImage {
  /** Digest of the image manifest. */
  manifestDigest: Digest;
  /** Digest of the config blob (the image id): the same however the layers are compressed. */
  configDigest: Digest;
  config: ImageConfig;
  layers: LayerBlob[];
}

/** ImageSource finds base images by reference (local store; a registry pull where configured). */
export interface ImageSource {
  resolve(ref: string): Promise<ResolvedImage>;
}

/** FileSelection is an opaque set of source files chosen for one COPY/ADD. */
export interface FileSelection {
  readonly count: number;
}

/** FileSource is where COPY/ADD read from: the build context, or another stage's / image's root filesystem. */
export interface FileSource {
  /** select resolves COPY sources (wildcards, Docker semantics); throws COPY_SOURCE_MISSING. */
  select(sources: string[], opts: { exclude: string[]; parents: boolean }): Promise<FileSelection>;
  /** digest is the content digest of a selection as it would be copied (Merkle over path, type, mode, owner, content). */
  digest(sel: FileSelection, opts: { uid: number; gid: number; chmod?: string }): Promise<Digest>;
  /**
   * copy writes the selection into layerDir (a fresh directory standing for the container root) at dest;
   * lowerDirs are the image's extracted layers, topmost first (to follow its symlinks and see its dirs).
   */
  copy(sel: FileSelection, layerDir: string, dest: string, opts: CopyOptions): Promise<void>;
  /**
   * plan computes in memory the layer that copy would write (COPY only, not ADD), for
   * streaming it without a layer directory; null when only copy can write it.
   */
  plan(sel: FileSelection, dest: string, opts: CopyOptions): Promise<TarTree | null>;
  /** close releases what the source holds (mounts, stat cache flush). */
  close(): Promise<void>;
}

/** CopyOptions are what FileSource.copy needs besides the selection. */
export interface CopyOptions {
  workdir: string;
  uid: number;
  gid: number;
  /** --chown was given (ADD keeps an archive's own owners otherwise). */
  chownGiven?: boolean;
  chmod?: string;
  /** ADD's rules: local tar archives are extracted. False for COPY and for `ADD --unpack=false`. */
  add: boolean;
  /** The image's extracted layers, topmost first; empty for COPY --link (the layer stands alone). */
  lowerDirs: string[];
  /**
   * For plan only, instead of lowerDirs: the image's layers topmost first, each extracted (its
   * dir) or known as the tree of a COPY this process made (not extracted).
   */
  lowers?: ReadonlyArray<string | TarTree>;
}

/** FileSourceFactory opens file sources: the context once per build, rootfs dirs per COPY --from. */
export interface FileSourceFactory {
  context(): Promise<FileSource>;
  rootfs(dir: string): Promise<FileSource>;
}

/** LayerDirs gives direct access to extracted layers, for steps that need no container (COPY). */
export interface LayerDirs {
  /** layerDir is where a layer's extracted tree lives. */
  layerDir(diffID: DiffID): string;
  /** commitDir turns a directory into a layer and adopts it as that layer's snapshot. */
  commitDir(dir: string, opts?: CommitOptions): Promise<LayerBlob | null>;
  /** commitTree stores a layer described in memory as a blob, without a snapshot (extracted when mounted). */
  commitTree(tree: TarTree, opts?: TreeTarOptions): Promise<LayerBlob | null>;
  /** tree gives the in-memory form of a layer committed by commitTree in this process. */
  tree(diffID: DiffID): TarTree | undefined;
}

/** RemoteCache is the build cache imported with --cache-from: records by key, layers fetched on demand. */
export interface RemoteCache {
  get(key: Digest): CacheRecord | undefined;
  /** canFetch tells whether the layer can be downloaded (it is part of an imported cache). */
  canFetch(layer: LayerBlob): boolean;
  /** fetchLayer downloads the layer into the local store (uncompressed, digest = DiffID). */
  fetchLayer(layer: LayerBlob): Promise<void>;
}

/** SolverDeps are the concrete parts the CLI wires into a build. */
export interface SolverDeps {
  store: ContentStore;
  images: ImageSource;
  snapshotter: Snapshotter & LayerDirs;
  executor: Executor;
  cache: CacheStore;
  /** Records imported with --cache-from, consulted after the local cache. */
  remoteCache?: RemoteCache;
  files: FileSourceFactory;
  expand: Expander;
  /** Parses ONBUILD trigger text of base images. */
  parseTrigger: (text: string) => ParseResult;
  events: EventSink;
  /** Scratch space on the store's filesystem (ROOT/tmp). */
  tmpDir: string;
  now: () => Date;
}

/** SecretSource is where a --secret's bytes come from; they are read only when a RUN mounts it. */
export type SecretSource = { path: string } | { value: string };

/** BuildOptions are a build's user-chosen settings. */
export interface BuildOptions {
  buildArgs: ReadonlyMap<string, string>;
  /** --secret id → source, for RUN --mount=type=secret (never part of a cache key, layer or history). */
  secrets?: ReadonlyMap<string, SecretSource>;
  target?: string;
  noCache: boolean;
  network: 'host' | 'none';
  /** What --allow grants (RUN --security=insecure needs security.insecure); none when absent. */
  entitlements?: ReadonlySet<Entitlement>;
  jobs: number;
  /** SOURCE_DATE_EPOCH: clamps layer mtimes and history times. */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
}

/** BuildResult is the built image. */
export interface BuildResult {
  config: ImageConfig;
  layers: LayerBlob[];
  steps: { total: number; cached: number; ran: number };
  /** Every cache record this build used or made, with the stage it belongs to (for --cache-to). */
  records: { stage: number; record: CacheRecord }[];
  /** Index of the target stage. */
  target: number;
  /** The target and the stages it is built FROM, in turn: the stages whose steps made the image's layers. */
  imageStages: number[];
}
