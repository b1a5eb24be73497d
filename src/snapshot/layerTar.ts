import { getAttributeSync, listAttributesSync, withXattrPath } from '../sys/xattr.ts';
import { randomBytes } from 'node:crypto';
import { mkdirSync, type Stats } from 'node:fs';
import { lstat, open, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { TsbuildError } from '../core/errors.ts';
import { displayName, osPath } from '../core/names.ts';
import { readdirNames, readlinkName } from '../sys/fsNames.ts';
import { END_OF_ARCHIVE, encodeHeader, paddingFor, type EntryKind, type TarHeader } from './tarFormat.ts';

/** LayerTarOptions tune writeLayerTar. */
export interface LayerTarOptions {
  /** Clamp every mtime to at most this (seconds since the epoch): SOURCE_DATE_EPOCH. */
  sourceDateEpoch?: number;
  /**
   * Relative paths of mount-point stubs a runtime created (e.g. `etc/resolv.conf`, `proc`):
   * each is left out when it is an empty file or a directory holding only left-out stubs.
   * The caller vouches that they did not exist in the lower layers.
   */
  stubs?: readonly string[];
}

/** WHITEOUT_PREFIX marks an OCI whiteout entry `.wh.NAME`; OPAQUE_MARKER marks an opaque directory. */
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

const SMALL_FILE = 1 << 16;
const READ_CHUNK = 1 << 20;

/**
 * writeLayerTar streams dir (an overlay upper dir or any directory) to out as a
 * deterministic layer tar: entries in path order (children sorted by name
 * bytes, a directory before its contents), names as bytes (core/names.ts:
 * a name that is not UTF-8 goes into a PAX record raw), relative without `./`
 * (`etc/`, `etc/passwd`), numeric ids with empty user/group names, permission
 * plus setuid/setgid/sticky bits, mtime in whole seconds (clamped to
 * sourceDateEpoch), no atime/ctime, xattrs except trusted.overlay.* and
 * security.selinux, hardlinks within the layer as Link entries. Overlay
 * whiteouts (0/0 char devices) become empty `.wh.NAME` files and opaque
 * directories are followed by `DIR/.wh..wh..opq`. The root directory itself is
 * not an entry (as Docker). File bodies are streamed, never buffered whole;
 * out's back-pressure is honoured. out is not ended.
 */
export async function writeLayerTar(dir: string, out: Writable, opts: LayerTarOptions = {}): Promise<LayerTarStats> {
  const w = new TarWriter(out, opts, dir);
  try {
    await w.walk(dir, '');
  } finally {
    await w.dropScratch();
  }
  await w.push(END_OF_ARCHIVE);
  return { entries: w.entries, size: w.size, omitted: w.omitted };
}

/** LayerTarStats counts what writeLayerTar wrote; entries === 0 means dir held no change. */
export interface LayerTarStats {
  entries: number;
  size: number;
  /** Relative paths present in dir but left out of the tar (empty stubs, sockets), parents first. */
  omitted: string[];
}

class TarWriter {
  readonly #out: Writable;
  readonly #epoch: number | undefined;
  readonly #stubs: ReadonlySet<string>;
  readonly #links = new Map<string, string>();
  readonly #root: string;
  #scratch: string | undefined;

  constructor(out: Writable, opts: LayerTarOptions, root: string) {
    this.#out = out;
    this.#epoch = opts.sourceDateEpoch;
    this.#stubs = new Set(opts.stubs ?? []);
    this.#root = root;
  }

  /**
   * scratch is a directory beside the walked one (same file system, outside the tree) for the
   * hard links through which the xattrs of a non-directory whose name is not UTF-8 are read.
   */
  readonly scratch = (): string => {
    this.#scratch ??= `${this.#root.replace(/\/+$/, '')}.xattr-${randomBytes(6).toString('hex')}`;
    mkdirSync(osPath(this.#scratch), { recursive: true, mode: 0o700 });
    return this.#scratch;
  };

  async dropScratch(): Promise<void> {
    if (this.#scratch !== undefined) await rm(osPath(this.#scratch), { recursive: true, force: true });
  }

  entries = 0;
  size = 0;
  readonly omitted: string[] = [];

  async push(buf: Buffer): Promise<void> {
    const out = this.#out;
    if (out.errored) throw out.errored;
    if (out.destroyed) throw new TsbuildError('IO', 'layer tar: output closed early');
    this.size += buf.length;
    if (!out.write(buf)) await drained(out);
  }

  /** header writes one entry's header (and counts the entry). */
  async header(h: TarHeader): Promise<void> {
    this.entries++;
    await this.push(encodeHeader(h));
  }

  async walk(abs: string, rel: string): Promise<void> {
    const names = await readdirNames(abs);
    for (const name of names) {
      const childAbs = `${abs}/${name}`;
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(osPath(childAbs));
      if (st.isSocket() || (this.#stubs.has(childRel) && (await this.#isEmptyStub(childAbs, childRel, st)))) {
        this.omitted.push(childRel);
        continue;
      }
      await this.#entry(childAbs, childRel, st);
    }
  }

  async #isEmptyStub(abs: string, rel: string, st: Stats): Promise<boolean> {
    if (st.isFile()) return st.size === 0;
    if (!st.isDirectory()) return false;
    for (const name of await readdirNames(abs)) {
      const r = `${rel}/${name}`;
      if (!this.#stubs.has(r) || !(await this.#isEmptyStub(`${abs}/${name}`, r, await lstat(osPath(`${abs}/${name}`))))) return false;
    }
    return true;
  }

  async #entry(abs: string, rel: string, st: Stats): Promise<void> {
    if (st.isCharacterDevice() && st.rdev === 0) {
      // An overlay whiteout (also when the kernel shares one inode among many).
      const slash = rel.lastIndexOf('/');
      const wh = `${rel.slice(0, slash + 1)}${WHITEOUT_PREFIX}${rel.slice(slash + 1)}`;
      return this.header({ path: wh, kind: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: this.#mtime(st) });
    }
    const h = this.#header(abs, rel, st);
    if (!st.isDirectory() && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.#links.get(key);
      if (first !== undefined) {
        return this.header({ ...h, kind: 'hardlink', size: 0, linkpath: first });
      }
      this.#links.set(key, rel);
    }
    if (st.isSymbolicLink()) h.linkpath = await readlinkName(abs);
    if (h.kind === 'file') return this.#file(abs, h);
    await this.header(h);
    if (h.kind !== 'dir') return;
    if (h.opaque) {
      await this.header({ path: `${rel}/${OPAQUE_MARKER}`, kind: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: h.mtime });
    }
    await this.walk(abs, rel);
  }

  #header(abs: string, rel: string, st: Stats): TarHeader & { opaque?: boolean } {
    const kind = kindOf(st, rel);
    const h: TarHeader & { opaque?: boolean } = { path: rel, kind, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: kind === 'file' ? st.size : 0, mtime: this.#mtime(st) };
    if (kind === 'char' || kind === 'block') {
      h.devmajor = devMajor(st.rdev);
      h.devminor = devMinor(st.rdev);
    }
    const { xattrs, opaque } = withXattrPath(abs, { isDir: kind === 'dir', scratch: this.scratch }, readXattrs);
    if (xattrs.length) h.xattrs = xattrs;
    if (opaque && kind === 'dir') h.opaque = true;
    return h;
  }

  #mtime(st: Stats): number {
    const t = Math.floor(st.mtimeMs / 1000);
    return this.#epoch !== undefined && t > this.#epoch ? this.#epoch : t;
  }

  async #file(abs: string, h: TarHeader): Promise<void> {
    const fh = await open(osPath(abs), 'r');
    try {
      this.entries++;
      const header = encodeHeader(h);
      if (h.size <= SMALL_FILE) {
        // One write for header, body and padding: most files in a layer are small.
        const buf = Buffer.alloc(header.length + h.size + paddingFor(h.size));
        header.copy(buf);
        const { bytesRead } = h.size ? await fh.read(buf, header.length, h.size, 0) : { bytesRead: 0 };
        if (bytesRead !== h.size) throw changed(abs);
        return await this.push(buf);
      }
      await this.push(header);
      let pos = 0;
      while (pos < h.size) {
        const want = Math.min(READ_CHUNK, h.size - pos);
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(buf, 0, want, pos);
        if (bytesRead === 0) throw changed(abs);
        pos += bytesRead;
        await this.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      }
      const pad = paddingFor(h.size);
      if (pad) await this.push(Buffer.alloc(pad));
    } finally {
      await fh.close();
    }
  }
}

/** drained waits for 'drain', failing if out errors or closes first (no event would ever come). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', onDrain); out.off('error', done); out.off('close', onClose);
      if (err) reject(err); else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(out.errored ?? new TsbuildError('IO', 'layer tar: output closed early'));
    out.on('drain', onDrain); out.on('error', done); out.on('close', onClose);
  });
}

function kindOf(st: Stats, rel: string): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  // Sockets never get here: they cannot be archived (Docker skips them too) and are listed as omitted.
  throw new TsbuildError('IO', `layer tar: unsupported file type at ${rel}`);
}

/** readXattrs lists the xattrs that belong in a layer, sorted by name, and whether the dir is overlay-opaque. */
function readXattrs(abs: string): { xattrs: [string, Buffer][]; opaque: boolean } {
  let names: string[];
  try {
    names = listAttributesSync(abs);
  } catch {
    return { xattrs: [], opaque: false }; // file system without xattrs
  }
  let opaque = false;
  const xattrs: [string, Buffer][] = [];
  for (const n of names.sort()) {
    if (n === 'trusted.overlay.opaque') {
      opaque = getAttributeSync(abs, n)?.toString() === 'y';
      continue;
    }
    if (n.startsWith('trusted.overlay.') || n.startsWith('user.overlay.') || n === 'security.selinux') continue;
    const v = getAttributeSync(abs, n);
    if (v) xattrs.push([n, v]);
  }
  return { xattrs, opaque };
}

/** devMajor/devMinor split a Linux dev_t as glibc's gnu_dev_major/gnu_dev_minor do. */
export function devMajor(rdev: number): number {
  const lo = rdev >>> 0;
  const hi = Math.floor(rdev / 2 ** 32) >>> 0;
  return (((lo >>> 8) & 0xfff) | (hi & 0xfffff000)) >>> 0;
}

export function devMinor(rdev: number): number {
  const lo = rdev >>> 0;
  const hi = Math.floor(rdev / 2 ** 32) >>> 0;
  return ((lo & 0xff) | (((lo >>> 12) | (hi << 20)) & 0xffffff00)) >>> 0;
}

function changed(abs: string): TsbuildError {
  return new TsbuildError('IO', `layer tar: ${displayName(abs)} changed size while being archived`);
}

