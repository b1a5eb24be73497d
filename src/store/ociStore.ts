import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ignoreDamage, type OnDamage } from '../core/damage.ts';
import { digestFromHash, hexOf, sha256Of, type Digest } from '../core/digest.ts';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { writeFileAtomic } from './atomicFile.ts';
import { FileBlobWriter } from './blobWriter.ts';
import type { DeferredSync } from './deferredSync.ts';
import type { BlobCheck, BlobWriter, ContentStore } from './types.ts';

const HEX_RE = /^[0-9a-f]{64}$/;

/**
 * OciStore is the ContentStore over an OCI image layout directory: blobs live in
 * blobs/sha256/<hex> and only ever enter it by rename from tmpDir (same filesystem),
 * after being hashed and verified. Writing an existing blob is a no-op, unless the blob
 * there is damaged (a small blob whose bytes differ, a large one whose size differs):
 * then the good copy replaces it. A small blob read whose bytes do not match its digest
 * is removed (BLOB_UNKNOWN, so the caller fetches or rebuilds it as a missing one).
 * Either is reported to onDamage. Tags live in the same layout's index.json (see OciTagStore).
 */
export class OciStore implements ContentStore {
  readonly layoutDir: string;
  readonly tmpDir: string;
  readonly #blobDir: string;
  /** With deferred, blobs are not fsynced one by one: see DeferredSync. */
  readonly #deferred: DeferredSync | undefined;
  readonly #beforeRename: ((dest: string, size: number) => Promise<unknown>) | undefined;
  readonly #onDamage: OnDamage;

  constructor(opts: { layoutDir: string; tmpDir: string; deferred?: DeferredSync; onDamage?: OnDamage }) {
    this.layoutDir = opts.layoutDir;
    this.tmpDir = opts.tmpDir;
    this.#blobDir = join(opts.layoutDir, 'blobs', 'sha256');
    const deferred = opts.deferred;
    this.#deferred = deferred;
    this.#beforeRename = deferred ? async (dest, size) => { await deferred.begin(); deferred.wrote(dest, size); } : undefined;
    this.#onDamage = opts.onDamage ?? ignoreDamage;
  }

  path(d: Digest): string {
    return join(this.#blobDir, hexOf(d));
  }

  async has(d: Digest): Promise<boolean> {
    try {
      await stat(this.path(d));
      return true;
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return false;
      throw e;
    }
  }

  async size(d: Digest): Promise<number> {
    try {
      return (await stat(this.path(d))).size;
    } catch (e) {
      throw this.#unknown(d, e);
    }
  }

  /** open streams a blob; a missing blob surfaces as an ENOENT error on the stream. */
  open(d: Digest): Readable {
    return createReadStream(this.path(d), { highWaterMark: 1 << 20 });
  }

  /** readBytes reads a small blob whole and checks it against its digest (a damaged one is removed: BLOB_UNKNOWN). */
  async readBytes(d: Digest): Promise<Buffer> {
    let buf: Buffer;
    try {
      buf = await readFile(this.path(d));
    } catch (e) {
      throw this.#unknown(d, e);
    }
    if (sha256Of(buf) === d) return buf;
    await this.delete(d);
    this.#onDamage({ what: `blob ${d}`, problem: `content does not match its digest (${buf.length} bytes)`, action: 'removed', fixed: true });
    throw new TsbuildError('BLOB_UNKNOWN', `blob ${d} was damaged (its content did not match its digest) and was removed from store ${this.layoutDir}`);
  }

  async readJson<T>(d: Digest): Promise<T> {
    const buf = await this.readBytes(d);
    try {
      return JSON.parse(buf.toString('utf8')) as T;
    } catch (e) {
      throw new TsbuildError('STORE_CORRUPT', `read blob ${d}: not JSON: ${(e as Error).message}`, { cause: e });
    }
  }

  async putBytes(data: Uint8Array | string): Promise<{ digest: Digest; size: number }> {
    const digest = sha256Of(data);
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    const existing = await readFile(this.path(digest)).catch((e: unknown) => { if (isErrno(e, 'ENOENT')) return undefined; throw e; });
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (existing?.equals(bytes)) return { digest, size };
    await writeFileAtomic(this.tmpDir, this.path(digest), data, this.#beforeRename);
    if (existing) this.#onDamage({ what: `blob ${digest}`, problem: 'content does not match its digest', action: 'replaced with a good copy', fixed: true });
    return { digest, size };
  }

  /** expectWrites makes the DeferredSync marker durable ahead of the first commit (a failure surfaces there). */
  expectWrites(): void {
    this.#deferred?.begin().catch(() => undefined);
  }

  writer(): Promise<BlobWriter> {
    return FileBlobWriter.create(this.tmpDir, (d) => this.path(d), this.#beforeRename, (d, size) => {
      this.#onDamage({ what: `blob ${d}`, problem: `${size} bytes instead of the committed content's`, action: 'replaced with a good copy', fixed: true });
    });
  }

  /** check hashes a blob whole: sound, absent, or damaged (its content does not match its digest). */
  async check(d: Digest): Promise<BlobCheck> {
    const h = createHash('sha256');
    try {
      for await (const chunk of createReadStream(this.path(d), { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return 'absent';
      throw e;
    }
    return digestFromHash(h) === d ? 'sound' : 'damaged';
  }

  async delete(d: Digest): Promise<void> {
    await unlink(this.path(d)).catch((e: unknown) => { if (!isErrno(e, 'ENOENT')) throw e; });
  }

  async list(): Promise<Digest[]> {
    const names = await readdir(this.#blobDir).catch((e: unknown) => {
      if (isErrno(e, 'ENOENT')) return [] as string[];
      throw e;
    });
    return names.filter((n) => HEX_RE.test(n)).sort().map((n) => `sha256:${n}` as Digest);
  }

  #unknown(d: Digest, cause: unknown): Error {
    if (isErrno(cause, 'ENOENT')) return new TsbuildError('BLOB_UNKNOWN', `blob ${d} not in store ${this.layoutDir}`, { cause });
    return cause instanceof Error ? cause : new Error(String(cause));
  }
}
