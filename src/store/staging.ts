import { existsSync, mkdirSync } from 'node:fs';
import { rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { sha256Of, type Digest } from '../core/digest.ts';
import { tmpName } from './atomicFile.ts';
import { OciStore } from './ociStore.ts';
import { DIR_MODE } from './permissions.ts';
import type { BlobCheck, BlobWriter, ContentStore, LocalStore } from './types.ts';

/**
 * StagingStore is a ContentStore for work that must add all of its blobs to the store
 * or none (`load` of an archive): new blobs are written, hashed and verified as usual,
 * but into a private layout in tmp/ (`tmp/stage-<pid>-<random>/blobs/sha256/`, which
 * cleanupStaleTmp removes if the process dies). Reads see the staged blobs and the
 * store's. publish() renames the staged blobs into the store (one rename each, same
 * file system); discard() deletes them. Either way the staging directory goes.
 */
export class StagingStore implements ContentStore {
  readonly layoutDir: string;
  readonly #base: ContentStore;
  readonly #staged: OciStore;
  readonly #dir: string;

  private constructor(base: ContentStore, dir: string, tmpDir: string) {
    this.#base = base;
    this.#dir = dir;
    this.#staged = new OciStore({ layoutDir: dir, tmpDir });
    this.layoutDir = base.layoutDir;
  }

  /**
   * open makes the staging directory for store. Synchronous (three mkdirs), so that a
   * caller can start reading a stream right after it, before the stream can fail unheard.
   */
  static open(store: Pick<LocalStore, 'content' | 'dirs'>): StagingStore {
    const dir = tmpName(store.dirs.tmp, 'stage');
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true, mode: DIR_MODE });
    return new StagingStore(store.content, dir, store.dirs.tmp);
  }

  async has(d: Digest): Promise<boolean> {
    return (await this.#staged.has(d)) || this.#base.has(d);
  }

  /** path is the staged blob's path while it is staged, else the store's. */
  path(d: Digest): string {
    const staged = this.#staged.path(d);
    return existsSync(staged) ? staged : this.#base.path(d);
  }

  async size(d: Digest): Promise<number> {
    return (await this.#staged.has(d)) ? this.#staged.size(d) : this.#base.size(d);
  }

  open(d: Digest): Readable {
    return existsSync(this.#staged.path(d)) ? this.#staged.open(d) : this.#base.open(d);
  }

  async readBytes(d: Digest): Promise<Buffer> {
    return (await this.#staged.has(d)) ? this.#staged.readBytes(d) : this.#base.readBytes(d);
  }

  async readJson<T>(d: Digest): Promise<T> {
    return (await this.#staged.has(d)) ? this.#staged.readJson<T>(d) : this.#base.readJson<T>(d);
  }

  /** putBytes stages a small blob (or leaves it where it is, if the store has it already). */
  async putBytes(data: Uint8Array | string): Promise<{ digest: Digest; size: number }> {
    const digest = sha256Of(data);
    if (await this.#base.has(digest)) return { digest, size: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength };
    return this.#staged.putBytes(data);
  }

  /** check hashes the staged blob if there is one, else the store's. */
  async check(d: Digest): Promise<BlobCheck> {
    return (await this.#staged.has(d)) ? this.#staged.check(d) : this.#base.check(d);
  }

  writer(): Promise<BlobWriter> {
    return this.#staged.writer();
  }

  async delete(d: Digest): Promise<void> {
    await this.#staged.delete(d);
  }

  async list(): Promise<Digest[]> {
    return [...new Set([...(await this.#staged.list()), ...(await this.#base.list())])].sort();
  }

  /** publish moves every staged blob the store lacks into it, then removes the staging directory. */
  async publish(): Promise<void> {
    for (const d of await this.#staged.list()) {
      if (await this.#base.has(d)) await unlink(this.#staged.path(d));
      else await rename(this.#staged.path(d), this.#base.path(d));
    }
    await this.discard();
  }

  /** discard deletes the staging directory and everything staged in it. */
  async discard(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
  }
}
