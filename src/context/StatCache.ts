import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isErrno } from '../core/errors.ts';
import { decodeName, encodeName } from '../core/names.ts';

/** FileStat is the part of a stat that tells whether a file may have changed (as git's index). */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
}

/**
 * RACY_MS: a file changed within this long before it was hashed may change again without its
 * mtime/ctime moving (kernel timestamps are taken from a coarse clock), so its hash is not
 * remembered ("racy git" problem). Such a file is simply hashed again next time. On a file
 * system with coarser timestamps the window grows by their granularity (see isRacy).
 */
export const RACY_MS = 100;

/** StatCacheOptions tune StatCache.load. */
export interface StatCacheOptions {
  /**
   * tmpName names save's staging file next to the cache file. In a store it carries the
   * writer's liveness id (store/atomicFile.ts siblingTmpName), so that `tsbuild fsck`
   * removes a dead writer's leftover; by default it is `<file>.<random>.tmp`.
   */
  tmpName?: (file: string) => string;
}

/**
 * granularityMs is how coarse a file system may have made timestamp t, judged from t itself:
 * a file system that keeps nanoseconds (ext4 with 256-byte inodes, xfs, btrfs, tmpfs) almost
 * never gives a whole millisecond, while one with 1-second timestamps (ext4 with 128-byte
 * inodes, many NFS servers) always gives whole seconds, FAT even ones, exFAT multiples of 10 ms.
 * A time set on purpose (`touch -d`, tar extraction) also looks coarse: that only widens its
 * racy window, and such times are rarely recent.
 */
function granularityMs(t: number): number {
  if (!Number.isInteger(t)) return 0;
  for (const g of [2000, 1000, 100, 10]) if (t % g === 0) return g;
  return 1;
}

/**
 * isRacy tells whether a file whose stat is st, read from hashedAtMs on, may have been
 * written again since without its stat changing: its mtime or ctime is not older than the
 * read by more than the timestamp's granularity plus RACY_MS. (Git's rule compares with the
 * index file's own mtime, on the same file system; the stat cache may live on another.)
 */
export function isRacy(st: Pick<FileStat, 'mtimeMs' | 'ctimeMs'>, hashedAtMs: number): boolean {
  return st.mtimeMs + granularityMs(st.mtimeMs) + RACY_MS > hashedAtMs || st.ctimeMs + granularityMs(st.ctimeMs) + RACY_MS > hashedAtMs;
}

/**
 * The file is MAGIC, then the memos (a u32 count, then per memo the 32-byte selection
 * fingerprint and the 32-byte sources digest), then the entries (a u32 count, then per
 * entry: u16 key length, the key (its name bytes, core/names.ts), size, mtimeMs, ctimeMs, ino, dev (float64 LE
 * each, as Node gives them) and the sha256 (32 raw bytes)). Each of the two parts (MAGIC
 * and the memos; the entries) ends with the sha256 of its bytes: a file torn by a crash
 * (zeros or old blocks where its data should be) is discarded, never trusted. A load reads the memos only;
 * the entries are indexed (a Map from key to the record's offset in the file) on the first
 * lookup, which a build whose selections all hit a memo never makes. (The JSON form this
 * replaces took ~0.13 s to load for 20,000 files, and its 20,000 arrays kept the garbage
 * collector busy for the rest of the build.)
 */
const MAGIC = Buffer.from('TSBSTAT\x04');
const FIELDS = 5 * 8;
const HASH = 32;
const MAX_KEY = 0xffff;
/** MAX_MEMOS bounds the remembered selections (the oldest go first). */
const MAX_MEMOS = 64;

/** Fresh is an entry set in this process, not yet in the file buffer. */
interface Fresh extends FileStat {
  hex: string;
}

/**
 * StatCache maps a context-relative path plus its stat (size, mtime, ctime, inode, device) to
 * the sha256 of its content, so a warm rebuild does not reread unchanged files. The content hash
 * alone goes into cache keys; the stat fields only decide whether it can be reused.
 *
 * It also keeps memos: a COPY selection's fingerprint (every path with its stat, see
 * selectionFingerprint) → the digest of its sources. A memo holds as long as the entries it was
 * computed from: a fingerprint names the same stats, and an entry's hash is never replaced for
 * an unchanged stat without dropping the memos (set()). A warm build then checks a 20,000-file
 * selection with one hash of its stats instead of 20,000 lookups and records.
 */
export class StatCache {
  readonly path: string | undefined;
  /** The loaded file, and where its entries' count starts. */
  private readonly buf: Buffer;
  private readonly entriesAt: number;
  /** Where each loaded key's record starts in buf; built on first use. */
  private loadedIndex: Map<string, number> | undefined;
  private readonly fresh = new Map<string, Fresh>();
  private readonly memos: Map<string, string>;
  private dirty = false;

  private constructor(path: string | undefined, buf: Buffer, entriesAt: number, memos: Map<string, string>) {
    this.path = path;
    this.buf = buf;
    this.entriesAt = entriesAt;
    this.memos = memos;
    if (buf.length === 0) this.loadedIndex = new Map();
  }

  /** memory gives a cache that is never persisted. */
  static memory(): StatCache {
    return new StatCache(undefined, Buffer.alloc(0), 0, new Map());
  }

  /** Names save's staging file next to path (see StatCacheOptions). */
  private tmpName: (file: string) => string = (file) => `${file}.${randomBytes(6).toString('hex')}.tmp`;

  /** load reads the cache file at path; a missing, foreign or truncated file gives an empty cache. */
  static async load(path: string, opts: StatCacheOptions = {}): Promise<StatCache> {
    const c = await StatCache.#read(path);
    if (opts.tmpName) c.tmpName = opts.tmpName;
    return c;
  }

  static async #read(path: string): Promise<StatCache> {
    let buf: Buffer;
    try {
      // One synchronous read: the file is small (~1.5 MB for 20,000 files) and needed at once.
      buf = readFileSync(path);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
      return new StatCache(path, Buffer.alloc(0), 0, new Map());
    }
    const head = decodeHead(buf);
    return head === null ? new StatCache(path, Buffer.alloc(0), 0, new Map()) : new StatCache(path, buf, head.entriesAt, head.memos);
  }

  /**
   * isIntact tells whether the file at path is a whole cache file of this version (for
   * `tsbuild fsck`; a build simply discards a torn one). A missing file counts as intact.
   */
  static isIntact(path: string): boolean {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return true;
      throw e;
    }
    const head = decodeHead(buf);
    return head !== null && decodeIndex(buf, head.entriesAt) !== null;
  }

  /** loaded indexes the file's entries on first use; a file whose entries do not decode counts as empty. */
  private get loaded(): Map<string, number> {
    this.loadedIndex ??= decodeIndex(this.buf, this.entriesAt) ?? new Map();
    return this.loadedIndex;
  }

  /** size is the number of remembered files. */
  get size(): number {
    return this.loaded.size + this.fresh.size;
  }

  /** get returns the remembered sha256 hex of key when its stat is unchanged. */
  get(key: string, st: FileStat): string | undefined {
    const f = this.fresh.get(key);
    if (f !== undefined) return sameStat(f, st) ? f.hex : undefined;
    const start = this.loaded.get(key);
    if (start === undefined) return undefined;
    const b = this.buf;
    const off = fieldsAt(b, start);
    if (b.readDoubleLE(off) !== st.size || b.readDoubleLE(off + 8) !== st.mtimeMs || b.readDoubleLE(off + 16) !== st.ctimeMs
      || b.readDoubleLE(off + 24) !== st.ino || b.readDoubleLE(off + 32) !== st.dev) return undefined;
    return b.toString('hex', off + FIELDS, off + FIELDS + HASH);
  }

  /**
   * set remembers the hash of key read from hashedAtMs on, unless the file is racy (isRacy);
   * it tells whether the hash was remembered. Another hash for the same stat (which a real
   * file can only give within RACY_MS, or a forged cache) drops every memo.
   */
  set(key: string, st: FileStat, hex: string, hashedAtMs: number): boolean {
    if (isRacy(st, hashedAtMs) || (key.length * 3 > MAX_KEY && encodeName(key).length > MAX_KEY)) {
      this.forget(key);
      return false;
    }
    const before = this.get(key, st);
    if (before === hex) return true;
    if (before !== undefined && this.memos.size > 0) this.memos.clear();
    this.loaded.delete(key);
    this.fresh.set(key, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, dev: st.dev, hex });
    this.dirty = true;
    return true;
  }

  /** forget drops an entry (a path that no longer exists). */
  forget(key: string): void {
    if (this.loaded.delete(key) || this.fresh.delete(key)) this.dirty = true;
  }

  /** memo is the sources digest remembered for a selection fingerprint (64 hex digits). */
  memo(fingerprint: string): string | undefined {
    return this.memos.get(fingerprint);
  }

  /** setMemo remembers a selection's sources digest (`sha256:<hex>`); only the newest MAX_MEMOS are kept. */
  setMemo(fingerprint: string, digest: string): void {
    if (this.memos.get(fingerprint) === digest) return;
    this.memos.delete(fingerprint);
    this.memos.set(fingerprint, digest);
    for (const old of this.memos.keys()) {
      if (this.memos.size <= MAX_MEMOS) break;
      this.memos.delete(old);
    }
    this.dirty = true;
  }

  /** save writes the cache atomically (temp file + rename) when it changed. */
  async save(): Promise<void> {
    if (this.path === undefined || !this.dirty) return;
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = this.tmpName(this.path);
    // Private, as every file of the store (docs/STORE.md).
    await writeFile(tmp, this.encode(), { mode: 0o600 });
    await rename(tmp, this.path);
    this.dirty = false;
  }

  private encode(): Buffer {
    const memos = Buffer.alloc(4 + this.memos.size * 2 * HASH);
    memos.writeUInt32LE(this.memos.size);
    let m = 4;
    for (const [fp, digest] of this.memos) {
      m += memos.write(fp, m, 'hex');
      m += memos.write(digest.slice('sha256:'.length), m, 'hex');
    }
    const parts: Buffer[] = [MAGIC, memos, sumOf([MAGIC, memos])];
    // Entries nobody looked up are copied as they are (with their checksum).
    if (this.loadedIndex === undefined) {
      parts.push(this.buf.subarray(this.entriesAt));
      return Buffer.concat(parts);
    }
    const entriesAt = parts.length;
    const count = Buffer.alloc(4);
    count.writeUInt32LE(this.size);
    parts.push(count);
    // A loaded entry is copied as it is.
    for (const start of this.loadedIndex.values()) parts.push(this.buf.subarray(start, fieldsAt(this.buf, start) + FIELDS + HASH));
    for (const [key, f] of this.fresh) {
      const k = encodeName(key);
      const rec = Buffer.alloc(2 + k.length + FIELDS + HASH);
      rec.writeUInt16LE(k.length, 0);
      k.copy(rec, 2);
      let o = 2 + k.length;
      for (const v of [f.size, f.mtimeMs, f.ctimeMs, f.ino, f.dev]) o = rec.writeDoubleLE(v, o);
      rec.write(f.hex, o, 'hex');
      parts.push(rec);
    }
    parts.push(sumOf(parts.slice(entriesAt)));
    return Buffer.concat(parts);
  }
}

function sameStat(a: FileStat, b: FileStat): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.dev === b.dev;
}

/** fieldsAt is the offset of the stat fields of the record starting at start (after its key). */
function fieldsAt(buf: Buffer, start: number): number {
  return start + 2 + buf.readUInt16LE(start);
}

/** sumOf is the checksum that ends each part of the file: the sha256 of its bytes. */
function sumOf(parts: readonly Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** intact tells whether buf[start, end) is followed by its checksum. */
function intact(buf: Buffer, start: number, end: number): boolean {
  return end + HASH <= buf.length && sumOf([buf.subarray(start, end)]).equals(buf.subarray(end, end + HASH));
}

/** decodeHead reads the memos and finds the entries; null when the file is not an intact cache file of this version. */
function decodeHead(buf: Buffer): { memos: Map<string, string>; entriesAt: number } | null {
  if (buf.length < MAGIC.length + 4 + HASH || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const count = buf.readUInt32LE(MAGIC.length);
  let pos = MAGIC.length + 4;
  if (!intact(buf, 0, pos + count * 2 * HASH)) return null;
  const memos = new Map<string, string>();
  for (let i = 0; i < count; i++, pos += 2 * HASH) {
    memos.set(buf.toString('hex', pos, pos + HASH), `sha256:${buf.toString('hex', pos + HASH, pos + 2 * HASH)}`);
  }
  return { memos, entriesAt: pos + HASH };
}

/** decodeIndex maps each key of the entries at entriesAt to where its record starts; null when they are torn or do not decode. */
function decodeIndex(buf: Buffer, entriesAt: number): Map<string, number> | null {
  const end = buf.length - HASH;
  if (entriesAt + 4 > end || !intact(buf, entriesAt, end)) return null;
  const count = buf.readUInt32LE(entriesAt);
  const index = new Map<string, number>();
  let pos = entriesAt + 4;
  for (let i = 0; i < count; i++) {
    if (pos + 2 > end) return null;
    const len = buf.readUInt16LE(pos);
    const off = pos + 2 + len;
    if (off + FIELDS + HASH > end) return null;
    index.set(decodeName(buf, pos + 2, off), pos);
    pos = off + FIELDS + HASH;
  }
  return pos === end ? index : null;
}
