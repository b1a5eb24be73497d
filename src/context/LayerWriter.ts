import { chmod, constants, copyFile, lchown, link, lstat, lutimes, mkdir, symlink, unlink } from 'node:fs/promises';
import { posix } from 'node:path';
import pLimit from 'p-limit';
import { isErrno, TsbuildError } from '../core/errors.ts';
import { displayName, osPath } from '../core/names.ts';
import { secureJoin } from '../sys/secureJoin.ts';
import { parseChmod, type ChmodSpec } from './chmod.ts';
import type { CopyIntoOptions, CopyResult } from './copyInto.ts';
import { hardlinkSources } from './sourcesDigest.ts';
import type { Owner, SelectedSource, SourceEntry } from './types.ts';

/** conflict is the error for a destination of the wrong kind (Docker: "cannot copy to non-directory"). */
export function conflict(msg: string): TsbuildError {
  return new TsbuildError('COPY_SOURCE_MISSING', `COPY failed: ${msg}`);
}

interface DirState {
  host: string;
  /** Times to set once everything inside is written (writing into a dir bumps its mtime). */
  times?: { atimeMs: number; mtimeMs: number };
  /** True when the dir also exists in the image, so entries below may conflict with it. */
  inLower: boolean;
}

/**
 * LayerWriter writes files into a layer directory (the container root) by container path. It
 * remembers the directories it made, gives directories the image already has their image
 * metadata, and never writes through a symlink found in the layer dir.
 */
export class LayerWriter {
  private readonly dirs = new Map<string, DirState>();
  private readonly owner: Owner;
  private readonly chmod: ChmodSpec | undefined;
  private readonly newDirMode: number;
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(private readonly destDir: string, private readonly opts: CopyIntoOptions) {
    this.owner = opts.chown ?? { uid: 0, gid: 0 };
    this.chmod = opts.chmod === undefined ? undefined : typeof opts.chmod === 'object' ? opts.chmod : parseChmod(opts.chmod);
    this.newDirMode = this.chmod?.octal ?? 0o755;
    this.limit = pLimit(opts.concurrency ?? 16);
    this.dirs.set('/', { host: destDir, inLower: true });
  }

  /** copySource writes one selected source at target (into it when a dir source or destIsDir); returns where. */
  async copySource(src: SelectedSource, target: string, destIsDir: boolean, result: CopyResult): Promise<string> {
    if (src.kind === 'dir') {
      const low = await this.lowerType(target);
      if (low !== null && low !== 'dir') throw conflict(`cannot copy to non-directory: ${target}`);
      await this.ensureDir(target, src.entries[0]);
      await this.writeTree(target, src.entries, hardlinkSources(src), result);
      return target;
    }
    const to = destIsDir ? posix.join(target, src.name) : target;
    if (destIsDir) await this.ensureDir(target);
    await this.writeTree(to, src.entries, new Map(), result);
    return to;
  }

  /** lowerType is the kind of containerPath in the image below, or null. */
  async lowerType(p: string): Promise<string | null> {
    return (await this.opts.lower?.lstat(p))?.type ?? null;
  }

  /**
   * ensureDir makes containerPath and its parents directories in the layer. A directory the
   * image already has is written with the image's metadata; a new one gets newDirMode and the
   * owner, and (for a dir source's destination) the source root's mtime.
   */
  async ensureDir(containerPath: string, root?: SourceEntry): Promise<DirState> {
    const known = this.dirs.get(containerPath);
    if (known) return known;
    const parent = await this.ensureDir(posix.dirname(containerPath));
    const low = parent.inLower ? await this.opts.lower?.lstat(containerPath) : undefined;
    if (low && low.type !== 'dir') throw conflict(`cannot copy to non-directory: ${containerPath}`);
    const { host, created } = await this.mkdirIn(parent.host, posix.basename(containerPath));
    const st: DirState = { host, inLower: !!low };
    if (!created) {
      // Already in the layer dir (not made by this writer): leave its metadata alone.
    } else if (low) {
      await this.meta(host, { uid: low.uid, gid: low.gid }, low.mode);
      st.times = { atimeMs: low.mtimeMs, mtimeMs: low.mtimeMs };
    } else {
      await this.meta(host, this.owner, this.newDirMode);
      if (root) st.times = { atimeMs: root.atimeMs, mtimeMs: root.mtimeMs };
    }
    this.dirs.set(containerPath, st);
    return st;
  }

  /** mkdirIn creates name in parentHost, or reuses what is there: a dir, or a symlink followed inside destDir. */
  private async mkdirIn(parentHost: string, name: string): Promise<{ host: string; created: boolean }> {
    const host = posix.join(parentHost, name);
    try {
      await mkdir(osPath(host));
      return { host, created: true };
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
    }
    const st = await lstat(osPath(host));
    if (st.isDirectory()) return { host, created: false };
    if (!st.isSymbolicLink()) throw conflict(`cannot copy to non-directory: ${displayName(host.slice(this.destDir.length)) || '/'}`);
    const inside = await secureJoin(this.destDir, host.slice(this.destDir.length));
    await mkdir(osPath(inside), { recursive: true });
    return { host: inside, created: false };
  }

  /** writeTree writes the entries of one source at base (entries[0] is base itself). */
  async writeTree(base: string, entries: SourceEntry[], links: Map<SourceEntry, string>, result: CopyResult): Promise<void> {
    const [rootEntry, ...rest] = entries;
    const later: Array<() => Promise<void>> = [];
    const hardlinks: Array<[SourceEntry, string]> = [];
    if (rootEntry && rootEntry.type !== 'dir') later.push(() => this.writeLeaf(base, rootEntry, result));
    for (const e of rest) {
      const to = posix.join(base, e.rel);
      if (e.type === 'dir') {
        const st = await this.ensureEntryDir(to, e);
        st.times = { atimeMs: e.atimeMs, mtimeMs: e.mtimeMs };
      } else if (links.has(e)) hardlinks.push([e, posix.join(base, links.get(e)!)]);
      else later.push(() => this.writeLeaf(to, e, result));
    }
    await Promise.all(later.map((f) => this.limit(f)));
    for (const [e, first] of hardlinks) await this.writeHardlink(posix.join(base, e.rel), first);
  }

  /** ensureEntryDir writes a directory of the source: created, or an existing one given the source's metadata. */
  private async ensureEntryDir(to: string, e: SourceEntry): Promise<DirState> {
    const st = await this.ensureDir(to);
    await this.meta(st.host, this.owner, this.modeOf(e));
    return st;
  }

  private modeOf(e: SourceEntry): number {
    return this.chmod ? this.chmod.apply(e.mode, e.type === 'dir') : e.mode;
  }

  /** leafPath finds the host path for a non-directory at containerPath, clearing what is there. */
  private async leafPath(containerPath: string): Promise<string> {
    const parent = await this.ensureDir(posix.dirname(containerPath));
    if (parent.inLower && (await this.lowerType(containerPath)) === 'dir') {
      throw conflict(`cannot replace directory ${containerPath} with a non-directory`);
    }
    const host = posix.join(parent.host, posix.basename(containerPath));
    try {
      const st = await lstat(osPath(host));
      if (st.isDirectory()) throw conflict(`cannot replace directory ${containerPath} with a non-directory`);
      await unlink(osPath(host));
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
    return host;
  }

  private async writeLeaf(containerPath: string, e: SourceEntry, result: CopyResult): Promise<void> {
    const host = await this.leafPath(containerPath);
    if (e.type === 'symlink') {
      await symlink(osPath(e.linkTarget ?? ''), osPath(host));
      await lchown(osPath(host), this.owner.uid, this.owner.gid);
      await lutimes(osPath(host), e.atimeMs / 1000, e.mtimeMs / 1000);
      return;
    }
    await copyFile(osPath(e.abs), osPath(host), constants.COPYFILE_EXCL);
    await this.meta(host, this.owner, this.modeOf(e));
    await lutimes(osPath(host), e.atimeMs / 1000, e.mtimeMs / 1000);
    result.files++;
    result.bytes += e.size;
  }

  private async writeHardlink(containerPath: string, firstPath: string): Promise<void> {
    const host = await this.leafPath(containerPath);
    const first = posix.join((await this.ensureDir(posix.dirname(firstPath))).host, posix.basename(firstPath));
    await link(osPath(first), osPath(host));
  }

  /** meta sets owner then mode (chown clears setuid/setgid, so it must come first). */
  private async meta(host: string, owner: Owner, mode: number): Promise<void> {
    await lchown(osPath(host), owner.uid, owner.gid);
    await chmod(osPath(host), mode);
  }

  /** finish sets directory times, deepest first, once nothing more is written into them. */
  async finish(): Promise<void> {
    const dirs = [...this.dirs.entries()].filter(([p, s]) => p !== '/' && s.times).sort((a, b) => b[0].length - a[0].length);
    for (const [, s] of dirs) await lutimes(osPath(s.host), s.times!.atimeMs / 1000, s.times!.mtimeMs / 1000);
  }
}
