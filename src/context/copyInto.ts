import { posix } from 'node:path';
import type { ChmodSpec } from './chmod.ts';
import { LayerWriter } from './LayerWriter.ts';
import { resolveInLower, type LowerFs } from './lower.ts';
import type { Owner, Selection } from './types.ts';

/** CopyIntoOptions carry the COPY flags and the view of the image below the new layer. */
export interface CopyIntoOptions {
  /** The stage's WORKDIR, for a relative destination (default "/"). */
  workdir?: string;
  /** --chown as numbers; without it everything is written 0:0. */
  chown?: Owner;
  /** --chmod, octal or symbolic. */
  chmod?: string | number | ChmodSpec;
  /** The image below the layer: whether dest exists and as what, and parent dirs' metadata. */
  lower?: LowerFs;
  /**
   * Maps a container path to where it really lands, following the image's symlinks inside its
   * rootfs. Defaults to resolveInLower(lower, path) when lower is given, else identity.
   */
  resolveDest?: (containerPath: string) => Promise<string>;
  /** Parallel file copies (default 16). */
  concurrency?: number;
}

/** CopyResult summarises what copyInto wrote. */
export interface CopyResult {
  /** Container paths of the top-level items written (a file, or the dir contents went into). */
  targets: string[];
  files: number;
  bytes: number;
}

/**
 * copyInto writes a selection into destDir, a fresh layer directory standing for the container
 * root, with Docker's COPY destination rules:
 * - dest is absolute or relative to workdir; it is a directory when it ends in `/` (or `.`),
 *   when the selection has several sources, or when it is an existing directory in the image;
 * - a dir source's contents go into dest; a file goes to dest/name or becomes dest;
 * - missing directories are created 0755 (or the octal --chmod, as BuildKit) owned by --chown
 *   or 0:0; existing image directories are written into the layer with their image metadata;
 * - files keep their context mode (or --chmod), become --chown or 0:0, keep their mtime;
 *   symlinks are copied as symlinks; hard links within one source stay hard links.
 * Every write lands inside destDir: directories are resolved with secureJoin, and an entry
 * already in destDir is replaced (never written through).
 */
export async function copyInto(sel: Selection, destDir: string, dest: string, opts: CopyIntoOptions = {}): Promise<CopyResult> {
  const w = new LayerWriter(destDir, opts);
  const { target, destIsDir } = await resolveTarget(w, sel, dest, opts);
  const result: CopyResult = { targets: [], files: 0, bytes: 0 };
  for (const src of sel.sources) result.targets.push(await w.copySource(src, target, destIsDir, result));
  await w.finish();
  return result;
}

/**
 * resolveTarget turns the instruction's dest into the container path written to (image symlinks
 * followed) and tells whether it is a directory: a trailing `/` (or a last component `.`/`..`),
 * several sources, or an existing directory in the image.
 */
export async function resolveTarget(w: Pick<LayerWriter, 'lowerType'>, sel: Selection, dest: string, opts: CopyIntoOptions): Promise<{ target: string; destIsDir: boolean }> {
  const dirHint = dest.endsWith('/') || /(^|\/)\.\.?$/.test(dest) || dest === '';
  const raw = posix.normalize(posix.isAbsolute(dest) ? dest : posix.join('/', opts.workdir ?? '/', dest));
  const resolve = opts.resolveDest ?? (opts.lower ? (p: string) => resolveInLower(opts.lower!, p) : async (p: string) => p);
  const target = await resolve(raw.length > 1 ? raw.replace(/\/+$/, '') : raw);
  const existing = await w.lowerType(target);
  return { target, destIsDir: dirHint || sel.multiple || existing === 'dir' };
}
