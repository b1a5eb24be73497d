import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { isErrno, TsbuildError } from '../core/errors.ts';
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
 * Devices and fifos are skipped (counted in skipped); xattrs are not applied.
 */
export async function extractTar(input: Readable, root: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const x = new Extractor(root, opts);
  const parser = new Parser({ strict: true });
  let chain: Promise<void> = Promise.resolve();
  let failed: unknown;
  parser.on('entry', (entry: ReadEntry) => {
    chain = chain.then(async () => {
      if (failed !== undefined) return void entry.resume();
      try {
        await x.apply(entry);
      } catch (e) {
        failed = e;
        entry.resume();
      }
    });
  });
  try {
    await pipeline(input, parser);
  } catch (e) {
    failed ??= new TsbuildError('BAD_ARCHIVE', `extract archive: ${(e as Error).message}`, { cause: e });
  }
  await chain;
  if (failed !== undefined) throw failed;
  await x.finishDirs();
  return { entries: x.entries, skipped: x.skipped };
}

/** safeRel cleans an archive name into a path relative to the root, or throws when it climbs out. */
function safeRel(name: string, what: string): string {
  const n = posix.normalize('./' + name.replace(/^\/+/, ''));
  if (n === '..' || n.startsWith('../')) throw new TsbuildError('UNSAFE_PATH', `archive ${what} "${name}" points outside the destination`);
  return n.replace(/\/+$/, '') || '.';
}

class Extractor {
  entries = 0;
  skipped = 0;
  private readonly dirTimes: Array<[string, Date, Date]> = [];

  constructor(private readonly root: string, private readonly opts: ExtractOptions) {}

  async apply(e: ReadEntry): Promise<void> {
    const rel = safeRel(e.path, 'entry');
    switch (e.type) {
      case 'Directory': return this.dir(rel, e);
      case 'File': case 'OldFile': case 'ContiguousFile': return this.file(rel, e);
      case 'SymbolicLink': return this.symlink(rel, e);
      case 'Link': return this.hardlink(rel, e);
      default:
        this.skipped++;
        e.resume();
    }
  }

  private owner(e: ReadEntry): Owner {
    return this.opts.chown ?? { uid: e.uid ?? 0, gid: e.gid ?? 0 };
  }

  /** parent resolves (creating as needed) the directory that will hold rel, inside root. */
  private async parent(rel: string): Promise<string> {
    const parts = rel.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const sub = parts.slice(0, i).join('/');
      const host = await secureJoin(this.root, sub);
      const st = await lstat(host).catch((err: unknown) => { if (isErrno(err, 'ENOENT')) return null; throw err; });
      if (st?.isDirectory()) continue;
      if (st !== null) throw new TsbuildError('BAD_ARCHIVE', `archive entry "${rel}": "${sub}" is not a directory`);
      await mkdir(host, { recursive: true }); // recursive: a link planted earlier may point deeper
      const low = await this.opts.implicitDir?.(sub);
      const owner = this.opts.chown ?? (low ? { uid: low.uid, gid: low.gid } : { uid: 0, gid: 0 });
      await lchown(host, owner.uid, owner.gid);
      await chmod(host, low ? low.mode : 0o755);
      if (low) this.dirTimes.push([host, new Date(low.mtimeMs), new Date(low.mtimeMs)]);
    }
    return secureJoin(this.root, parts.join('/'));
  }

  /** target gives the host path for rel with whatever was there removed (unless both are dirs). */
  private async target(rel: string, isDir: boolean): Promise<string> {
    if (rel === '.') return this.root;
    const host = posix.join(await this.parent(rel), posix.basename(rel));
    const st = await lstat(host).catch((err: unknown) => { if (isErrno(err, 'ENOENT')) return null; throw err; });
    if (st !== null && !(isDir && st.isDirectory())) await rm(host, { recursive: true, force: true });
    return host;
  }

  private async meta(host: string, e: ReadEntry, isLink = false): Promise<void> {
    const o = this.owner(e);
    await lchown(host, o.uid, o.gid);
    if (!isLink) await chmod(host, (e.mode ?? 0o644) & 0o7777);
  }

  private async dir(rel: string, e: ReadEntry): Promise<void> {
    e.resume();
    const host = await this.target(rel, true);
    await mkdir(host, { recursive: true });
    await this.meta(host, e);
    const m = e.mtime ?? new Date();
    this.dirTimes.push([host, e.atime ?? m, m]);
    this.entries++;
  }

  private async file(rel: string, e: ReadEntry): Promise<void> {
    const host = await this.target(rel, false);
    const fh = await open(host, 'wx', 0o600);
    try {
      for await (const chunk of e as AsyncIterable<Buffer>) await fh.write(chunk);
    } finally {
      await fh.close();
    }
    await this.meta(host, e);
    const m = e.mtime ?? new Date();
    await lutimes(host, e.atime ?? m, m);
    this.entries++;
  }

  private async symlink(rel: string, e: ReadEntry): Promise<void> {
    e.resume();
    const linkpath = e.linkpath ?? '';
    if (!linkpath.startsWith('/')) {
      // moby refuses a relative target that resolves above the extraction root.
      const resolved = posix.normalize(posix.join(posix.dirname(rel), linkpath));
      if (resolved === '..' || resolved.startsWith('../')) {
        throw new TsbuildError('UNSAFE_PATH', `archive symlink "${e.path}" -> "${linkpath}" points outside the destination`);
      }
    }
    const host = await this.target(rel, false);
    await symlink(linkpath, host);
    await this.meta(host, e, true);
    const m = e.mtime ?? new Date();
    await lutimes(host, e.atime ?? m, m);
    this.entries++;
  }

  private async hardlink(rel: string, e: ReadEntry): Promise<void> {
    e.resume();
    const from = safeRel(e.linkpath ?? '', 'hard link target');
    const source = await secureJoin(this.root, from, false);
    const host = await this.target(rel, false);
    await link(source, host).catch((err: unknown) => {
      throw new TsbuildError('BAD_ARCHIVE', `archive hard link "${e.path}" -> "${e.linkpath}": ${(err as Error).message}`, { cause: err });
    });
    this.entries++;
  }

  /** finishDirs sets directory times last, deepest first (writing into a dir moves its mtime). */
  async finishDirs(): Promise<void> {
    const sorted = [...this.dirTimes].sort((a, b) => b[0].length - a[0].length);
    for (const [host, atime, mtime] of sorted) await lutimes(host, atime, mtime);
  }
}
