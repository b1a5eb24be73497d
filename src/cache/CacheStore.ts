import { mkdir, readFile, rename, writeFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hexOf, isDigest, type Digest } from '../core/digest.ts';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { parseCacheRecord } from './parseRecord.ts';
import { tmpName } from '../store/atomicFile.ts';
import { DIR_MODE, FILE_MODE } from '../store/permissions.ts';
import type { CacheRecord } from './types.ts';

/**
 * CacheStore maps step cache keys to CacheRecords, one small JSON file per key
 * under ROOT/cache/keys/<hex>. Writes go through ROOT/tmp + rename, so a crash
 * never leaves a half-written record; a record whose layer blob is gone is
 * treated as a miss by the caller.
 */
export class CacheStore {
  readonly #dir: string;
  readonly #tmp: string;
  #dirs: Promise<unknown> | undefined;

  constructor(root: string) {
    this.#dir = join(root, 'cache', 'keys');
    this.#tmp = join(root, 'tmp');
  }

  /**
   * get returns the record for key, or undefined on a miss. A record that is not JSON,
   * or whose digests do not parse (parseCacheRecord), is a miss too: it is made again.
   */
  async get(key: Digest): Promise<CacheRecord | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.#dir, hexOf(key)), 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined;
      throw e;
    }
    try {
      const rec = parseCacheRecord(JSON.parse(text), { what: 'cache record' }, key);
      return rec.key === key ? rec : undefined;
    } catch (e) {
      if (e instanceof SyntaxError || e instanceof TsbuildError) return undefined;
      throw e;
    }
  }

  /** put records rec atomically (last writer wins; records for one key are interchangeable). */
  async put(rec: CacheRecord): Promise<void> {
    this.#dirs ??= Promise.all([mkdir(this.#dir, { recursive: true, mode: DIR_MODE }), mkdir(this.#tmp, { recursive: true, mode: DIR_MODE })]);
    await this.#dirs;
    const tmp = tmpName(this.#tmp, 'cache');
    await writeFile(tmp, JSON.stringify(rec), { mode: FILE_MODE });
    await rename(tmp, join(this.#dir, hexOf(rec.key)));
  }

  /** list every record (for prune and cache export). */
  async list(): Promise<CacheRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return [];
      throw e;
    }
    const out: CacheRecord[] = [];
    for (const n of names) {
      // Staged or stray files are not records.
      if (!/^[0-9a-f]{64}$/.test(n)) continue;
      const rec = await this.get(`sha256:${n}` as Digest);
      if (rec) out.push(rec);
    }
    return out;
  }

  /** delete removes the record for key, if any. */
  async delete(key: Digest): Promise<void> {
    if (!isDigest(key)) return;
    await rm(join(this.#dir, hexOf(key)), { force: true });
  }
}
