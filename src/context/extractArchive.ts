import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { isErrno, TsbuildError } from '../core/errors.ts';
import { displayName, osPath } from '../core/names.ts';
import type { TarHeader } from '../snapshot/tarFormat.ts';
import { readTar } from '../snapshot/tarReader.ts';
import { secureJoin } from '../sys/secureJoin.ts';
import type { LowerStat } from './lower.ts';
import type { Owner } from './types.ts';

/** ExtractOptions tune extractTar. */
export interface ExtractOptions {
  /** --chown: every entry gets this owner; without it the archive's numeric uid/gid are kept (BuildKit). */
  chown?: Owner;
  /**
   * implicitDir gives the metadata for a parent directory the archive does not list (rel to the
   * extraction root), e.g. the image's own /etc; null means a new 0755 directory.
   */
  implicitDir?: (rel: string) => Promise<LowerStat | null>;
}

/** ExtractResult counts what was extracted. */
export interface ExtractResult {
  entries: number;
  /** Entry types that are not extracted (devices, fifos), by count. */
  skipped: number;
}

/**
 * extractTar unpacks a plain tar stream into root like `tar -x` run chrooted into root (which is
 * what BuildKit does for ADD): entries replace what is there, directories merge. It never trusts
 * the archive: names and hard-link targets that climb out of root with `..` and relative symlink
 * targets that point above root are refused (UNSAFE_PATH, as moby's breakoutError); every path is
 * resolved with secureJoin inside root, so a symlink planted by an earlier entry cannot redirect a
 * later write outside it. Whiteout names (`.wh.*`) are ordinary files here, as in `docker build`.
 * Names and link targets are bytes (core/names.ts), read by snapshot/tarReader.ts as for
 * layers. Devices and fifos are skipped (counted in skipped); xattrs are not applied; an entry
 * type tar readers do not know fails the extraction (BAD_ARCHIVE), as moby's does.
 */
export async function extractTar(input: Readable, root: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const x = new Extractor(root, opts);
  for await (const { header, body } of readTar(input)) await x.apply(header, body);
  await x.finishDirs();
  return { entries: x.entries, skipped: x.skipped };
}

/** safeRel cleans an archive name into a path relative to the root, or throws when it climbs out. */
function safeRel(name: string, what: string): string {
  const n = posix.normalize('./' + name.replace(/^\/+/, ''));
  if (n === '..' || n.startsWith('../')) throw new TsbuildError('UNSAFE_PATH', `archive ${what} "${displayName(name)}" points outside the destination`);
  return n.replace(/\/+$/, '') || '.';
}

class Extractor {
  entries = 0;
  skipped = 0;
  /** Host path, atime and mtime (seconds) of each directory to finish. */
  private readonly dirTimes: Array<[string, number, number]> = [];

  constructor(private readonly root: string, private readonly opts: ExtractOptions) {}

  async apply(e: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const rel = safeRel(e.path, 'entry');
    switch (e.kind) {
      case 'dir': return this.dir(rel, e);
      case 'file': return this.file(rel, e, body);
      case 'symlink': return this.symlink(rel, e);
      case 'hardlink': return this.hardlink(rel, e);
      case 'char': case 'block': case 'fifo':
        this.skipped++;
    }
  }

  private owner(e: TarHeader): Owner {
    return this.opts.chown ?? { uid: e.uid, gid: e.gid };
  }

  /** parent resolves (creating as needed) the directory that will hold rel, inside root. */
  private async parent(rel: string): Promise<string> {
    const parts = rel.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const sub = parts.slice(0, i).join('/');
      const host = await secureJoin(this.root, sub);
      const st = await lstat(osPath(host)).catch((err: unknown) => { if (isErrno(err, 'ENOENT')) return null; throw err; });
      if (st?.isDirectory()) continue;
      if (st !== null) throw new TsbuildError('BAD_ARCHIVE', `archive entry "${displayName(rel)}": "${displayName(sub)}" is not a directory`);
      await mkdir(osPath(host), { recursive: true }); // recursive: a link planted earlier may point deeper
      const low = await this.opts.implicitDir?.(sub);
      const owner = this.opts.chown ?? (low ? { uid: low.uid, gid: low.gid } : { uid: 0, gid: 0 });
      await lchown(osPath(host), owner.uid, owner.gid);
      await chmod(osPath(host), low ? low.mode : 0o755);
      if (low) this.dirTimes.push([host, low.mtimeMs / 1000, low.mtimeMs / 1000]);
    }
    return secureJoin(this.root, parts.join('/'));
  }

  /** target gives the host path for rel with whatever was there removed (unless both are dirs). */
  private async target(rel: string, isDir: boolean): Promise<string> {
    if (rel === '.') return this.root;
    const host = posix.join(await this.parent(rel), posix.basename(rel));
    const st = await lstat(osPath(host)).catch((err: unknown) => { if (isErrno(err, 'ENOENT')) return null; throw err; });
    if (st !== null && !(isDir && st.isDirectory())) await rm(osPath(host), { recursive: true, force: true });
    return host;
  }

  private async meta(host: string, e: TarHeader, isLink = false): Promise<void> {
    const o = this.owner(e);
    await lchown(osPath(host), o.uid, o.gid);
    if (!isLink) await chmod(osPath(host), e.mode & 0o7777);
  }

  private async dir(rel: string, e: TarHeader): Promise<void> {
    const host = await this.target(rel, true);
    await mkdir(osPath(host), { recursive: true });
    await this.meta(host, e);
    this.dirTimes.push([host, e.mtime, e.mtime]);
    this.entries++;
  }

  private async file(rel: string, e: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const host = await this.target(rel, false);
    const fh = await open(osPath(host), 'wx', 0o600);
    try {
      for await (const chunk of body) await fh.write(chunk);
    } finally {
      await fh.close();
    }
    await this.meta(host, e);
    await lutimes(osPath(host), e.mtime, e.mtime);
    this.entries++;
  }

  private async symlink(rel: string, e: TarHeader): Promise<void> {
    const linkpath = e.linkpath ?? '';
    if (!linkpath.startsWith('/')) {
      // moby refuses a relative target that resolves above the extraction root.
      const resolved = posix.normalize(posix.join(posix.dirname(rel), linkpath));
      if (resolved === '..' || resolved.startsWith('../')) {
        throw new TsbuildError('UNSAFE_PATH', `archive symlink "${displayName(e.path)}" -> "${displayName(linkpath)}" points outside the destination`);
      }
    }
    const host = await this.target(rel, false);
    await symlink(osPath(linkpath), osPath(host));
    await this.meta(host, e, true);
    await lutimes(osPath(host), e.mtime, e.mtime);
    this.entries++;
  }

  private async hardlink(rel: string, e: TarHeader): Promise<void> {
    const from = safeRel(e.linkpath ?? '', 'hard link target');
    const source = await secureJoin(this.root, from, false);
    const host = await this.target(rel, false);
    await link(osPath(source), osPath(host)).catch((err: unknown) => {
      throw new TsbuildError('BAD_ARCHIVE', `archive hard link "${displayName(e.path)}" -> "${displayName(e.linkpath ?? '')}": ${(err as Error).message}`, { cause: err });
    });
    this.entries++;
  }

  /** finishDirs sets directory times last, deepest first (writing into a dir moves its mtime). */
  async finishDirs(): Promise<void> {
    const sorted = [...this.dirTimes].sort((a, b) => b[0].length - a[0].length);
    for (const [host, atime, mtime] of sorted) await lutimes(osPath(host), atime, mtime);
  }
}
