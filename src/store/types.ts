import type { Readable, Writable } from 'node:stream';
import type { OnDamage } from '../core/damage.ts';
import type { Digest } from '../core/digest.ts';
import type { Descriptor } from '../oci/types.ts';
import type { DeferredSync } from './deferredSync.ts';

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
  /**
   * sealed resolves once the stream has finished and every byte is hashed: the
   * blob's digest and size before it is durable (commit's fsync and rename are
   * still to come), for work that needs only the digest (a registry upload's PUT).
   */
  sealed(): Promise<{ digest: Digest; size: number }>;
  /** abort removes the partial data; safe to call after commit or twice. */
  abort(): Promise<void>;
}

/** BlobCheck is what hashing a blob found: it matches its digest, it is not there, or it does not match. */
export type BlobCheck = 'sound' | 'absent' | 'damaged';

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
  /** check hashes a blob whole against its digest (fsck, and a layer that failed to extract). */
  check(d: Digest): Promise<BlobCheck>;
  /** expectWrites tells the store a blob is coming: it may start what a commit will wait for. */
  expectWrites?(): void;
}

/** TagEntry is one named image in index.json (annotation org.opencontainers.image.ref.name = name). */
export interface TagEntry {
  /** Normalised `name:tag`, e.g. `app:1`, `busybox:latest`, `localhost:5000/x/y:2`. */
  name: string;
  descriptor: Descriptor;
}

/**
 * IndexEntry is one manifest of index.json: a tag, or (name undefined) an
 * untagged image kept so that it stays usable by id, Docker's `<none>:<none>`.
 */
export interface IndexEntry {
  name: string | undefined;
  descriptor: Descriptor;
}

/** RemoveTagOptions tune TagStore.remove. */
export interface RemoveTagOptions {
  /**
   * keepImage leaves the entry in index.json without its name when no other
   * entry holds its digest, in the same atomic update: the image stays
   * usable by id (e.g. a container still uses it).
   */
  keepImage?: boolean;
}

/**
 * TagStore maps names to manifest descriptors in the layout's index.json, and
 * keeps untagged images there as entries without a name (tools that look up
 * tags, skopeo and umoci, only see the named ones). Mutations are locked and atomic.
 */
export interface TagStore {
  /** list returns the named entries. */
  list(): Promise<TagEntry[]>;
  /** entries returns every entry, named and untagged, from one read of index.json. */
  entries(): Promise<IndexEntry[]>;
  get(name: string): Promise<Descriptor | undefined>;
  /** set names desc (moving the name if it named something else); untagged entries of desc's digest go. */
  set(name: string, desc: Descriptor): Promise<void>;
  /** remove returns whether the name existed. */
  remove(name: string, opts?: RemoveTagOptions): Promise<boolean>;
  /** keep records desc as an untagged entry, unless an entry (named or not) already holds its digest. */
  keep(desc: Descriptor): Promise<void>;
  /** forget removes the untagged entries of digest d (names stay); returns whether there was one. */
  forget(d: Digest): Promise<boolean>;
  /**
   * check tells what is wrong with index.json itself (undefined: nothing) and reports it to
   * onDamage; with repair it heals it as every read does (the copy from before its last change).
   */
  check(repair: boolean, onDamage: OnDamage): Promise<string | undefined>;
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
  /** Set when opened with deferSync: blobs are written unsynced until deferred.flush() (see DeferredSync). */
  readonly deferred?: DeferredSync;
  /** withLock runs fn holding the store-wide exclusive lock `name` (cross-process; stale locks of dead processes are broken). */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
}
