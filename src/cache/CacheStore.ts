import { mkdir, readFile, rename, writeFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ignoreDamage, type OnDamage } from '../core/damage.ts';
import { hexOf, isDigest, type Digest } from '../core/digest.ts';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { parseCacheRecord } from './parseRecord.ts';
import { tmpName } from '../store/atomicFile.ts';
import { DIR_MODE, FILE_MODE } from '../store/permissions.ts';
import type { CacheRecord } from './types.ts';

const HEX_RE = /^[0-9a-f]{64}$/;

/** CacheStoreOptions: onDamage is told about each damaged record found (and removed). */
export interface CacheStoreOptions {
  onDamage?: OnDamage;
}

/**
 * CacheStore maps step cache keys to CacheRecords, one small JSON file per key
 * under ROOT/cache/keys/<hex>. Writes go through ROOT/tmp + rename, so a crash
 * never leaves a half-written record in place of a good one; a record an OS crash
 * tore anyway (empty, cut, garbage, not a record of its key) is a miss, removed and
 * reported to onDamage, and the step's next run writes it again. A record whose layer
 * blob is gone is treated as a miss by the caller.
 */
export class CacheStore {
  readonly #dir: string;
  readonly #tmp: string;
  readonly #onDamage: OnDamage;
  #dirs: Promise<unknown> | undefined;

  constructor(root: string, opts: CacheStoreOptions = {}) {
    this.#dir = join(root, 'cache', 'keys');
    this.#tmp = join(root, 'tmp');
    this.#onDamage = opts.onDamage ?? ignoreDamage;
  }

  /**
   * get returns the record for key, or undefined on a miss. A damaged record (empty, not
   * JSON, rejected by parseCacheRecord, or the record of another key) is removed and
   * reported: the step runs again and writes it afresh.
   */
  async get(key: Digest): Promise<CacheRecord | undefined> {
    const r = await this.#read(key);
    if (r.kind === 'damaged') {
      await this.delete(key);
      this.#onDamage({ what: `cache record ${key}`, problem: r.problem, action: 'removed; the step runs again', fixed: true });
      return undefined;
    }
    return r.kind === 'record' ? r.record : undefined;
  }

  /** put records rec atomically (last writer wins; records for one key are interchangeable). */
  async put(rec: CacheRecord): Promise<void> {
    this.#dirs ??= Promise.all([mkdir(this.#dir, { recursive: true, mode: DIR_MODE }), mkdir(this.#tmp, { recursive: true, mode: DIR_MODE })]);
    await this.#dirs;
    const tmp = tmpName(this.#tmp, 'cache');
    await writeFile(tmp, JSON.stringify(rec), { mode: FILE_MODE });
    await rename(tmp, join(this.#dir, hexOf(rec.key)));
  }

  /** list every sound record (for prune and cache export); damaged ones are skipped. */
  async list(): Promise<CacheRecord[]> {
    const out: CacheRecord[] = [];
    for (const key of await this.#keys()) {
      const r = await this.#read(key);
      if (r.kind === 'record') out.push(r.record);
    }
    return out;
  }

  /** delete removes the record for key, if any. */
  async delete(key: Digest): Promise<void> {
    if (!isDigest(key)) return;
    await rm(join(this.#dir, hexOf(key)), { recursive: true, force: true });
  }

  /**
   * check reads every record (`tsbuild fsck`): a damaged one, or one whose layer
   * layerOk rejects (its blob missing or cut), is reported and, with repair, removed (the
   * step runs again on its next build). Files in keys/ that are not named by a key are
   * reported and removed likewise. Returns the sound records kept.
   */
  async check(opts: { repair: boolean; onDamage: OnDamage; layerOk: (rec: CacheRecord) => Promise<string | undefined> }): Promise<CacheRecord[]> {
    const kept: CacheRecord[] = [];
    const action = opts.repair ? 'removed; the step runs again' : 'would be removed';
    for (const name of await readdir(this.#dir).catch((e: unknown) => { if (isErrno(e, 'ENOENT')) return [] as string[]; throw e; })) {
      if (!HEX_RE.test(name)) {
        if (opts.repair) await rm(join(this.#dir, name), { recursive: true, force: true });
        opts.onDamage({ what: `cache/keys/${name}`, problem: 'not a cache record', action: opts.repair ? 'removed' : 'would be removed', fixed: opts.repair });
        continue;
      }
      const key = `sha256:${name}` as Digest;
      const r = await this.#read(key);
      const problem = r.kind === 'damaged' ? r.problem : r.kind === 'record' ? await opts.layerOk(r.record) : undefined;
      if (problem === undefined) {
        if (r.kind === 'record') kept.push(r.record);
        continue;
      }
      if (opts.repair) await this.delete(key);
      opts.onDamage({ what: `cache record ${key}`, problem, action, fixed: opts.repair });
    }
    return kept;
  }

  async #keys(): Promise<Digest[]> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return [];
      throw e;
    }
    return names.filter((n) => HEX_RE.test(n)).map((n) => `sha256:${n}` as Digest);
  }

  async #read(key: Digest): Promise<{ kind: 'absent' } | { kind: 'record'; record: CacheRecord } | { kind: 'damaged'; problem: string }> {
    let text: string;
    try {
      text = await readFile(join(this.#dir, hexOf(key)), 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return { kind: 'absent' };
      if (isErrno(e, 'EISDIR')) return { kind: 'damaged', problem: 'a directory, not a record' };
      throw e;
    }
    if (text.length === 0) return { kind: 'damaged', problem: 'empty' };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { kind: 'damaged', problem: `not JSON (${text.length} bytes, cut or garbage)` };
    }
    try {
      const record = parseCacheRecord(value, { what: 'cache record' }, '');
      if (record.key !== key) return { kind: 'damaged', problem: `holds the record of another key (${record.key})` };
      return { kind: 'record', record };
    } catch (e) {
      if (!(e instanceof TsbuildError)) throw e;
      // The report names the record already: keep what parseCacheRecord says is wrong.
      return { kind: 'damaged', problem: e.message.replace(/^cache record: \.?/, '') };
    }
  }
}
