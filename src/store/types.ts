import type { Readable, Writable } from 'node:stream';
import type { Digest } from '../core/digest.ts';
import type { Descriptor } from '../oci/types.ts';

/** BlobWriter ingests one blob: write to `stream`, then commit (verify, fsync, rename into blobs/) or abort. */
export interface BlobWriter {
  /** Hashes and counts every byte written. */
  readonly stream: Writable;
  /**
   * commit finishes the stream and moves the blob into place. When expected
   * fields are given and differ, it throws TsbuildError('DIGEST_MISMATCH') and
   * nothing enters the store. Committing a blob that already exists is a no-op.
   */
  commit(expected?: { digest?: Digest; size?: number }): Promise<{ digest: Digest; size: number }>;
  /** abort removes the partial data; safe to call after commit or twice. */
  abort(): Promise<void>;
}

/** ContentStore holds blobs by digest in an OCI image layout (blobs/sha256/<hex>). The only writer of blobs/. */
export interface ContentStore {
  /** The OCI layout directory (contains oci-layout, index.json, blobs/). */
  readonly layoutDir: string;
  has(d: Digest): Promise<boolean>;
  /** path of the blob file (it may not exist). */
  path(d: Digest): string;
  /** size of an existing blob; throws BLOB_UNKNOWN if absent. */
  size(d: Digest): Promise<number>;
  open(d: Digest): Readable;
  readBytes(d: Digest): Promise<Buffer>;
  readJson<T>(d: Digest): Promise<T>;
  /** putBytes stores a small blob (manifest, config) atomically. */
  putBytes(data: Uint8Array | string): Promise<{ digest: Digest; size: number }>;
  writer(): Promise<BlobWriter>;
  delete(d: Digest): Promise<void>;
  /** list every blob digest present. */
  list(): Promise<Digest[]>;
}

/** TagEntry is one named image in index.json (annotation org.opencontainers.image.ref.name = name). */
export interface TagEntry {
  /** Normalised `name:tag`, e.g. `app:1`, `busybox:latest`, `localhost:5000/x/y:2`. */
  name: string;
  descriptor: Descriptor;
}

/** TagStore maps names to manifest descriptors in the layout's index.json. Mutations are locked and atomic. */
export interface TagStore {
  list(): Promise<TagEntry[]>;
  get(name: string): Promise<Descriptor | undefined>;
  set(name: string, desc: Descriptor): Promise<void>;
  /** remove returns whether the name existed. */
  remove(name: string): Promise<boolean>;
}

/** StoreDirs are the directories under a store root (all on one filesystem, so staging in tmp/ renames atomically). */
export interface StoreDirs {
  root: string;
  /** OCI image layout: oci-layout, index.json, blobs/sha256/<hex>. */
  oci: string;
  /** One extracted layer per directory, in overlay form: the lowerdirs. */
  snapshots: string;
  cache: string;
  containers: string;
  /** Staging for every writer; also holds lock files (locks/). */
  tmp: string;
}

/** LocalStore is an opened store root: its directories, blobs, tags and named locks. */
export interface LocalStore {
  readonly dirs: StoreDirs;
  readonly content: ContentStore;
  readonly tags: TagStore;
  /** withLock runs fn holding the store-wide exclusive lock `name` (cross-process; stale locks of dead processes are broken). */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
}
