import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isErrno } from '../core/errors.ts';

/** FileStat is the part of a stat that tells whether a file may have changed (as git's index). */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
}

/** Entry layout on disk: [size, mtimeMs, ctimeMs, ino, dev, sha256 hex]. */
type Row = [number, number, number, number, number, string];

interface CacheFile {
  version: 1;
  entries: Record<string, Row>;
}

/**
 * RACY_MS: a file changed within this long before it was hashed may change again without its
 * mtime/ctime moving (kernel timestamps are taken from a coarse clock), so its hash is not
 * remembered ("racy git" problem). Such a file is simply hashed again next time.
 */
export const RACY_MS = 100;

/**
 * StatCache maps a context-relative path plus its stat (size, mtime, ctime, inode, device) to
 * the sha256 of its content, so a warm rebuild does not reread unchanged files. The content hash
 * alone goes into cache keys; the stat fields only decide whether it can be reused.
 */
export class StatCache {
  readonly path: string | undefined;
  private readonly entries: Map<string, Row>;
  private dirty = false;

  private constructor(path: string | undefined, entries: Map<string, Row>) {
    this.path = path;
    this.entries = entries;
  }

  /** memory gives a cache that is never persisted. */
  static memory(): StatCache {
    return new StatCache(undefined, new Map());
  }

  /** load reads the cache file at path; a missing or unreadable file gives an empty cache. */
  static async load(path: string): Promise<StatCache> {
    try {
      const data = JSON.parse(await readFile(path, 'utf8')) as CacheFile;
      if (data.version !== 1 || typeof data.entries !== 'object') return new StatCache(path, new Map());
      return new StatCache(path, new Map(Object.entries(data.entries)));
    } catch (e) {
      if (!isErrno(e, 'ENOENT') && !(e instanceof SyntaxError)) throw e;
      return new StatCache(path, new Map());
    }
  }

  /** size is the number of remembered files. */
  get size(): number {
    return this.entries.size;
  }

  /** get returns the remembered sha256 hex of key when its stat is unchanged. */
  get(key: string, st: FileStat): string | undefined {
    const r = this.entries.get(key);
    if (r === undefined) return undefined;
    if (r[0] !== st.size || r[1] !== st.mtimeMs || r[2] !== st.ctimeMs || r[3] !== st.ino || r[4] !== st.dev) return undefined;
    return r[5];
  }

  /** set remembers the hash of key read at hashedAtMs, unless the file is racy (see RACY_MS). */
  set(key: string, st: FileStat, hex: string, hashedAtMs: number): void {
    if (Math.max(st.mtimeMs, st.ctimeMs) > hashedAtMs - RACY_MS) {
      if (this.entries.delete(key)) this.dirty = true;
      return;
    }
    this.entries.set(key, [st.size, st.mtimeMs, st.ctimeMs, st.ino, st.dev, hex]);
    this.dirty = true;
  }

  /** forget drops an entry (a path that no longer exists). */
  forget(key: string): void {
    if (this.entries.delete(key)) this.dirty = true;
  }

  /** save writes the cache atomically (temp file + rename) when it changed. */
  async save(): Promise<void> {
    if (this.path === undefined || !this.dirty) return;
    const data: CacheFile = { version: 1, entries: Object.fromEntries(this.entries) };
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, JSON.stringify(data));
    await rename(tmp, this.path);
    this.dirty = false;
  }
}
