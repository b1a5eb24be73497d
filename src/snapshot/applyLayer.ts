import { setAttributeSync, withXattrPath } from '../sys/xattr.ts';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, renameSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { rm, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { DiffID } from '../core/digest.ts';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { displayName, hasEscapes, osPath } from '../core/names.ts';
import { readdirNamesSync } from '../sys/fsNames.ts';
import { mknod } from '../sys/mknod.ts';
import { secureJoin } from '../sys/secureJoin.ts';
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from './layerTar.ts';
import type { TarHeader } from './tarFormat.ts';
import { readTar, type TarDigest } from './tarReader.ts';

/**
 * WhiteoutMode says what OCI whiteouts become: 'overlay' keeps them for
 * overlayfs (a 0/0 character device per `.wh.NAME`, xattr
 * trusted.overlay.opaque=y per `.wh..wh..opq`), for a snapshot dir used as a
 * lowerdir; 'delete' applies them (removes the path / clears the directory),
 * for extracting into a plain directory.
 */
export type WhiteoutMode = 'overlay' | 'delete';

/** ApplyOptions tune applyLayer. */
export interface ApplyOptions {
  whiteouts: WhiteoutMode;
}

/** ApplyResult describes the tar that was applied: its DiffID (sha256 of the uncompressed stream) and size. */
export interface ApplyResult {
  diffID: DiffID;
  size: number;
  entries: number;
}

/**
 * applyLayer extracts a layer tar (plain or gzip, told apart by magic bytes)
 * into dir, entry by entry, without trusting it: every path is resolved with
 * secureJoin inside dir, so `..`, absolute names and symlinks planted by
 * earlier entries cannot make a write land outside dir; a name or hardlink
 * target that climbs out with `..` is refused (UNSAFE_PATH). Entries of the
 * same layer win over its whiteouts. Owners (lchown), modes, mtimes (lutimes;
 * directories last) and xattrs (except trusted.overlay.*) are applied. Names
 * and link targets are bytes (core/names.ts), written exactly as the tar has them.
 */
export async function applyLayer(stream: Readable, dir: string, opts: ApplyOptions): Promise<ApplyResult> {
  const a = new Applier(dir, opts.whiteouts);
  const digest: TarDigest = { size: 0 };
  let entries = 0;
  try {
    for await (const { header, body } of readTar(stream, digest)) {
      entries++;
      await a.apply(header, body).catch((e: unknown) => { throw wrap(header.path, e); });
    }
  } finally {
    await a.close();
  }
  await a.finishDirs();
  return { diffID: digest.diffID!, size: digest.size, entries };
}

class Applier {
  readonly #dir: string;
  readonly #mode: WhiteoutMode;
  /** Paths this layer created, and their ancestors: whiteouts and opaque markers never remove them. */
  readonly #created = new Set<string>();
  readonly #dirTimes: [string, number][] = [];
  readonly #parents = new Map<string, string>();
  #template: string | undefined;

  constructor(dir: string, mode: WhiteoutMode) {
    this.#dir = dir;
    this.#mode = mode;
  }

  // File-system calls below are synchronous on purpose: an entry is a dozen quick
  // syscalls, and a thread-pool round trip each made extraction 4x slower (measured).
  async apply(h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const rel = safeRel(h.path);
    const slash = rel.lastIndexOf('/');
    const parentRel = rel.slice(0, Math.max(slash, 0));
    const base = rel.slice(slash + 1);
    if (base === OPAQUE_MARKER) return this.#opaque(parentRel);
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return; // aufs metadata (.wh..wh.plnk, ...)
    if (base.startsWith(WHITEOUT_PREFIX)) return this.#whiteout(join2(parentRel, base.slice(WHITEOUT_PREFIX.length)));
    const parent = await this.#parent(parentRel);
    const target = rel === '' ? this.#dir : join(parent, base);
    const existing = lstatSync(osPath(target), { throwIfNoEntry: false });
    if (existing && !(h.kind === 'dir' && existing.isDirectory())) {
      if (rel === '') throw new TsbuildError('BAD_ARCHIVE', 'the root of a layer can only be a directory');
      this.#remove(target);
    }
    this.#markCreated(rel);
    await this.#create(h, target, body, existing?.isDirectory() === true && h.kind === 'dir');
    if (h.kind === 'hardlink') return; // shares the inode (and its metadata) with its target
    const os = osPath(target);
    lchownSync(os, h.uid, h.gid);
    if (h.kind !== 'symlink') chmodSync(os, h.mode & 0o7777);
    const xattrs = (h.xattrs ?? []).filter(([k]) => !k.startsWith('trusted.overlay.') && !k.startsWith('user.overlay.')); // would steer overlayfs
    if (xattrs.length) {
      withXattrPath(target, { isDir: h.kind === 'dir', scratch: this.#scratch }, (p) => {
        for (const [k, v] of xattrs) {
          try { setAttributeSync(p, k, v); } catch { /* as Docker: xattrs the file system refuses are dropped */ }
        }
      });
    }
    if (h.kind === 'dir') this.#dirTimes.push([target, h.mtime]);
    else lutimesSync(os, h.mtime, h.mtime);
  }

  /**
   * scratch is a private directory inside dir (removed by close(), before directory times are
   * set) for the hard links and temporary names that reach a name that is not UTF-8 where
   * only a UTF-8 path can be given (the xattr addon, the mknod command).
   */
  readonly #scratch = (): string => {
    this.#scratchDir ??= join(this.#dir, `.tsbuild-scratch-${randomBytes(8).toString('hex')}`);
    // Made again if an opaque directory ('delete' mode) cleared it away.
    mkdirSync(this.#scratchDir, { recursive: true, mode: 0o700 });
    return this.#scratchDir;
  };

  #scratchDir: string | undefined;

  /**
   * parent resolves (secureJoin) and creates an entry's parent directory. Results
   * are cached: a resolved parent is a real directory, and only a removal can
   * change what a path resolves to, so #remove clears the cache.
   */
  async #parent(parentRel: string): Promise<string> {
    let abs = this.#parents.get(parentRel);
    if (abs === undefined) {
      abs = await secureJoin(this.#dir, parentRel);
      mkdirSync(osPath(abs), { recursive: true, mode: 0o755 });
      this.#parents.set(parentRel, abs);
    }
    return abs;
  }

  #remove(abs: string): void {
    this.#parents.clear();
    rmSync(osPath(abs), { recursive: true, force: true });
  }

  async #create(h: TarHeader, target: string, body: AsyncIterable<Buffer>, exists: boolean): Promise<void> {
    switch (h.kind) {
      case 'dir':
        if (!exists) mkdirSync(osPath(target), { mode: 0o700 });
        return;
      case 'file':
        return writeBody(target, body);
      case 'symlink':
        return symlinkSync(osPath(h.linkpath ?? ''), osPath(target));
      case 'hardlink': {
        const src = await secureJoin(this.#dir, safeRel(h.linkpath ?? ''), false);
        return linkSync(osPath(src), osPath(target));
      }
      case 'char': case 'block':
        return this.#mknod(target, h.kind === 'char' ? 'c' : 'b', h.mode, h.devmajor, h.devminor);
      case 'fifo':
        return this.#mknod(target, 'p', h.mode);
    }
  }

  /** mknod runs the mknod command; a path that is not UTF-8 (a command argument is) is made under a scratch name and renamed. */
  async #mknod(target: string, kind: 'c' | 'b' | 'p', mode: number, major?: number, minor?: number): Promise<void> {
    if (!hasEscapes(target)) return mknod(target, kind, mode, major, minor);
    const tmp = `${this.#scratch()}/node-${randomBytes(8).toString('hex')}`;
    await mknod(tmp, kind, mode, major, minor);
    renameSync(tmp, osPath(target));
  }

  #markCreated(rel: string): void {
    for (let r = rel; !this.#created.has(r); r = r.slice(0, Math.max(r.lastIndexOf('/'), 0))) {
      this.#created.add(r);
      if (r === '') break;
    }
  }

  async #whiteout(rel: string): Promise<void> {
    const target = await secureJoin(this.#dir, rel, false);
    if (target === this.#dir) throw new TsbuildError('UNSAFE_PATH', 'whiteout of the root directory');
    const st = lstatSync(osPath(target), { throwIfNoEntry: false });
    if (this.#created.has(rel)) {
      // The layer's own entry wins; only what lower layers had under it goes.
      if (st?.isDirectory()) await this.#opaque(rel);
      return;
    }
    if (st) this.#remove(target);
    if (this.#mode === 'delete') return;
    await this.#parent(rel.slice(0, Math.max(rel.lastIndexOf('/'), 0)));
    linkSync(await this.#whiteoutTemplate(), osPath(target));
  }

  async #opaque(rel: string): Promise<void> {
    const target = await this.#parent(rel);
    if (this.#mode === 'overlay') withXattrPath(target, { isDir: true }, (p) => setAttributeSync(p, 'trusted.overlay.opaque', 'y'));
    else this.#clear(target, rel);
  }

  /** clear empties dir of everything this layer did not create itself. */
  #clear(abs: string, rel: string): void {
    for (const name of readdirNamesSync(abs)) {
      const r = join2(rel, name);
      const p = join(abs, name);
      if (!this.#created.has(r)) this.#remove(p);
      else if (lstatSync(osPath(p)).isDirectory()) this.#clear(p, r);
    }
  }

  /**
   * whiteoutTemplate makes one 0/0 character device (the `mknod` command costs
   * about a millisecond) that every whiteout of this layer hard-links, as
   * overlayfs itself shares whiteout inodes. It sits in dir under a random
   * name and is removed by close(), before directory times are set.
   */
  async #whiteoutTemplate(): Promise<string> {
    if (this.#template === undefined) {
      const p = join(this.#dir, `.tsbuild-whiteout-${randomBytes(8).toString('hex')}`);
      await mknod(p, 'c', 0o000, 0, 0);
      this.#template = p;
    }
    return this.#template;
  }

  async close(): Promise<void> {
    if (this.#template !== undefined) await unlink(this.#template).catch(() => undefined);
    this.#template = undefined;
    if (this.#scratchDir !== undefined) await rm(this.#scratchDir, { recursive: true, force: true });
    this.#scratchDir = undefined;
  }

  async finishDirs(): Promise<void> {
    for (const [p, t] of this.#dirTimes.reverse()) {
      try { lutimesSync(osPath(p), t, t); } catch (e) { if (!isErrno(e, 'ENOENT')) throw e; }
    }
  }
}

async function writeBody(target: string, body: AsyncIterable<Buffer>): Promise<void> {
  const fd = openSync(osPath(target), 'wx', 0o600);
  try {
    for await (const chunk of body) {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
    }
  } finally {
    closeSync(fd);
  }
}

/** safeRel normalises a tar path to `a/b` form ('' for the root); a path climbing out with `..` is UNSAFE_PATH. */
export function safeRel(p: string): string {
  const n = posix.normalize(p.replace(/^\/+/, '') || '.');
  if (n === '..' || n.startsWith('../')) throw new TsbuildError('UNSAFE_PATH', `path "${displayName(p)}" points outside the layer`);
  return n === '.' || n === './' ? '' : n.replace(/\/+$/, '');
}

function join2(a: string, b: string): string {
  return a === '' ? b : `${a}/${b}`;
}

function wrap(raw: string, e: unknown): unknown {
  const path = displayName(raw);
  if (e instanceof TsbuildError) {
    return e.message.includes(path) ? e : new TsbuildError(e.code, `apply layer entry "${path}": ${e.message}`, { cause: e });
  }
  return new TsbuildError('IO', `apply layer entry "${path}": ${(e as Error).message}`, { cause: e });
}
