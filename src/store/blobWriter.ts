import { createHash } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { digestFromHash, type Digest } from '../core/digest.ts';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { tmpName } from './atomicFile.ts';
import { FILE_MODE } from './permissions.ts';
import type { BlobWriter } from './types.ts';

/**
 * FileBlobWriter stages a blob in tmp/ while hashing and counting it; commit
 * fsyncs, verifies against what the caller expected, and renames the file into
 * blobs/sha256/<hex>. A crash at any point leaves only a stray file in tmp/.
 */
export class FileBlobWriter implements BlobWriter {
  readonly stream: Writable;
  readonly #fh: FileHandle;
  readonly #tmp: string;
  readonly #blobPath: (d: Digest) => string;
  readonly #hash = createHash('sha256');
  #size = 0;
  #done = false;
  #sealed: Promise<{ digest: Digest; size: number }> | undefined;
  readonly #beforeRename: ((dest: string, size: number) => Promise<unknown>) | undefined;
  readonly #onReplace: ((d: Digest, oldSize: number) => void) | undefined;

  private constructor(fh: FileHandle, tmp: string, blobPath: (d: Digest) => string, beforeRename: ((dest: string, size: number) => Promise<unknown>) | undefined, onReplace: ((d: Digest, oldSize: number) => void) | undefined) {
    this.#fh = fh;
    this.#tmp = tmp;
    this.#blobPath = blobPath;
    this.#beforeRename = beforeRename;
    this.#onReplace = onReplace;
    this.stream = new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _enc, cb) => this.#write([chunk]).then(() => cb(), cb),
      writev: (chunks, cb) => this.#write(chunks.map((c) => c.chunk as Buffer)).then(() => cb(), cb),
    });
  }

  /**
   * create opens a staging file in tmpDir; blobPath maps a digest to its final path. With
   * beforeRename, commit does not fsync the blob: it awaits beforeRename (DeferredSync.begin,
   * which makes the promise to sync it later durable) before the rename instead. A blob
   * already in place with another size than the committed one is damaged (cut by a crash):
   * the new copy replaces it, and onReplace is told.
   */
  static async create(tmpDir: string, blobPath: (d: Digest) => string, beforeRename?: (dest: string, size: number) => Promise<unknown>, onReplace?: (d: Digest, oldSize: number) => void): Promise<FileBlobWriter> {
    const tmp = tmpName(tmpDir, 'blob');
    const fh = await open(tmp, 'wx', FILE_MODE);
    return new FileBlobWriter(fh, tmp, blobPath, beforeRename, onReplace);
  }

  async #write(chunks: Buffer[]): Promise<void> {
    for (const c of chunks) {
      this.#hash.update(c);
      this.#size += c.length;
    }
    await this.#fh.writev(chunks);
  }

  sealed(): Promise<{ digest: Digest; size: number }> {
    this.#sealed ??= finished(this.stream).then(() => ({ digest: digestFromHash(this.#hash), size: this.#size }));
    return this.#sealed;
  }

  async commit(expected: { digest?: Digest; size?: number } = {}): Promise<{ digest: Digest; size: number }> {
    if (this.#done) throw new TsbuildError('INTERNAL', 'blob writer: commit after commit or abort');
    try {
      if (!this.stream.writableEnded) this.stream.end();
      const { digest, size } = await this.sealed();
      if (expected.digest !== undefined && expected.digest !== digest) {
        throw new TsbuildError('DIGEST_MISMATCH', `commit blob: got ${digest}, expected ${expected.digest}`);
      }
      if (expected.size !== undefined && expected.size !== size) {
        throw new TsbuildError('DIGEST_MISMATCH', `commit blob ${digest}: got ${size} bytes, expected ${expected.size}`);
      }
      const dest = this.#blobPath(digest);
      if (this.#beforeRename) await this.#beforeRename(dest, size);
      else await this.#fh.sync();
      await this.#fh.close();
      this.#done = true;
      const old = await sizeOf(dest);
      if (old === size) {
        await unlink(this.#tmp);
      } else {
        await rename(this.#tmp, dest);
        if (old !== undefined) this.#onReplace?.(digest, old);
      }
      return { digest, size };
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  async abort(): Promise<void> {
    if (!this.stream.destroyed) this.stream.destroy();
    if (!this.#done) {
      this.#done = true;
      await this.#fh.close().catch(() => undefined);
    }
    await unlink(this.#tmp).catch((e: unknown) => { if (!isErrno(e, 'ENOENT')) throw e; });
  }
}

async function sizeOf(p: string): Promise<number | undefined> {
  try {
    return (await stat(p)).size;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}
