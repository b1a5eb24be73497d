import { readFile } from 'node:fs/promises';
import { decodeName } from '../core/names.ts';
import { join, resolve } from 'node:path';
import type { Digest } from '../core/digest.ts';
import { isErrno, TsbuildError } from '../core/errors.ts';
import { ContextFs } from './ContextFs.ts';
import { parseDockerignore, PatternMatcher } from './dockerignore.ts';
import { hashFile, type HashFileFn } from './hashFile.ts';
import { selectSources } from './select.ts';
import { StatCache } from './StatCache.ts';
import { selectionFingerprint, sourcesDigest, type DigestOptions } from './sourcesDigest.ts';
import type { Selection, SelectOptions, SourceEntry } from './types.ts';

/** BuildContextOptions configure how a context directory is read. */
export interface BuildContextOptions {
  /** Apply the context's .dockerignore (default true). */
  dockerignore?: boolean;
  /**
   * Use this ignore file instead of CONTEXT/.dockerignore (BuildKit prefers `<Buildfile>.dockerignore`
   * next to the Buildfile; the caller picks which file applies).
   */
  ignoreFile?: string;
  /** Where the stat cache lives (e.g. ROOT/cache/statcache-<hash of context path>.json); in memory when absent. */
  statCachePath?: string;
  /** Names the stat cache's staging file next to it (StatCacheOptions.tmpName). */
  statCacheTmpName?: (file: string) => string;
  /** Content hasher, injectable (tests count reads with it). */
  hashFile?: HashFileFn;
}

/**
 * BuildContext is a build context directory: what COPY/ADD may read, filtered by .dockerignore,
 * plus a stat cache that makes re-hashing unchanged files free.
 */
export class BuildContext {
  readonly dir: string;
  /** The ignore patterns in force (empty without a .dockerignore). */
  readonly ignorePatterns: readonly string[];
  readonly fs: ContextFs;
  private readonly ignore: PatternMatcher | null;
  private readonly cache: StatCache;
  private readonly hash: HashFileFn;
  private readonly inflight = new Map<string, Promise<string>>();
  /** reads counts the files whose content was actually read (stat-cache misses). */
  reads = 0;
  /** unremembered counts the hashes the stat cache declined to keep (racy files). */
  private unremembered = 0;

  private constructor(dir: string, patterns: string[], cache: StatCache, hash: HashFileFn) {
    this.dir = dir;
    this.ignorePatterns = patterns;
    this.ignore = patterns.length > 0 ? new PatternMatcher(patterns) : null;
    this.fs = new ContextFs(dir, this.ignore);
    this.cache = cache;
    this.hash = hash;
  }

  /** open reads the ignore file and the stat cache of contextDir; throws USAGE if it is not a directory. */
  static async open(contextDir: string, opts: BuildContextOptions = {}): Promise<BuildContext> {
    const dir = resolve(contextDir);
    let patterns: string[] = [];
    if (opts.dockerignore !== false) {
      const file = opts.ignoreFile ?? join(dir, '.dockerignore');
      try {
        patterns = parseDockerignore(decodeName(await readFile(file))); // patterns may name bytes that are not UTF-8
      } catch (e) {
        if (!isErrno(e, 'ENOENT')) throw new TsbuildError('IO', `read ${file}: ${(e as Error).message}`, { cause: e });
      }
    }
    const cache = opts.statCachePath ? await StatCache.load(opts.statCachePath, opts.statCacheTmpName ? { tmpName: opts.statCacheTmpName } : {}) : StatCache.memory();
    const ctx = new BuildContext(dir, patterns, cache, opts.hashFile ?? hashFile);
    const root = await ctx.fs.resolve('.');
    if (root === null || !root.st.isDirectory()) throw new TsbuildError('USAGE', `build context ${dir} is not a directory`);
    return ctx;
  }

  /** isIgnored tells whether .dockerignore excludes a context-relative path (or one of its parents). */
  isIgnored(relPath: string): boolean {
    return this.ignore !== null && this.ignore.matches(relPath);
  }

  /** walk lists every file the context provides (what `COPY . dst` would select), "." first. */
  async walk(): Promise<SourceEntry[]> {
    return this.fs.walk('.', null);
  }

  /** select resolves COPY sources (see selectSources); throws TsbuildError('COPY_SOURCE_MISSING'). */
  async select(sources: readonly string[], opts: SelectOptions = {}): Promise<Selection> {
    return selectSources(this.fs, this.ignore, sources, opts);
  }

  /**
   * digest is the cache-key digest of a selection (see sourcesDigest), using the stat cache:
   * a selection whose fingerprint (paths and stats) was seen before takes the digest remembered
   * for it, without a lookup per file. A digest is remembered only when every file's hash was
   * (none was racy).
   */
  async digest(sel: Selection, opts: DigestOptions = {}): Promise<Digest> {
    const fingerprint = selectionFingerprint(sel, opts);
    const memo = this.cache.memo(fingerprint);
    if (memo !== undefined) return memo as Digest;
    const declined = this.unremembered;
    const digest = await sourcesDigest(sel, opts, (e) => this.contentOf(e));
    if (this.unremembered === declined && this.cache.memo(fingerprint) === undefined) this.cache.setMemo(fingerprint, digest);
    return digest;
  }

  /**
   * contentOf gives a file's sha256 hex: synchronously from the stat cache when its stat is
   * unchanged (or for a small file read now), else a promise. Concurrent asks share one read.
   */
  contentOf(e: SourceEntry): string | Promise<string> {
    const hit = this.cache.get(e.ctxPath, e);
    if (hit !== undefined) return hit;
    const key = `${e.ctxPath}\0${e.size}\0${e.mtimeMs}\0${e.ctimeMs}\0${e.ino}`;
    const pending = this.inflight.get(key);
    if (pending !== undefined) return pending;
    const started = Date.now();
    this.reads++;
    const v = this.hash(e.abs, e.size);
    if (typeof v === 'string') {
      this.remember(e, v, started);
      return v;
    }
    const p = v.then((hex) => {
      this.remember(e, hex, started);
      return hex;
    });
    this.inflight.set(key, p);
    p.finally(() => this.inflight.delete(key)).catch(() => undefined);
    return p;
  }

  private remember(e: SourceEntry, hex: string, started: number): void {
    if (!this.cache.set(e.ctxPath, e, hex, started)) this.unremembered++;
  }

  /** saveStatCache persists the stat cache (atomically) if it changed. */
  async saveStatCache(): Promise<void> {
    await this.cache.save();
  }
}
