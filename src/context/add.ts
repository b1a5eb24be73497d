import { TsbuildError } from '../core/errors.ts';
import { resolveTarget, type CopyIntoOptions, type CopyResult } from './copyInto.ts';
import { isTarArchive, openDecompressed } from './decompress.ts';
import { extractTar } from './extractArchive.ts';
import { LayerWriter } from './LayerWriter.ts';
import type { Selection, SelectedSource } from './types.ts';

/** AddIntoOptions are copyInto's plus ADD --unpack. */
export interface AddIntoOptions extends CopyIntoOptions {
  /**
   * Extract local tar archives (plain, gzip, bzip2, xz, zstd; told by content, not name) into
   * the destination directory. Default true, as ADD does for local files; false copies every
   * source as copyInto does (the engine calls copyInto itself for `ADD --unpack=false`).
   */
  unpack?: boolean;
}

/** AddResult is copyInto's result plus the sources that were extracted. */
export interface AddResult extends CopyResult {
  /** Context paths (or URLs) of the sources unpacked as archives. */
  extracted: string[];
}

/**
 * addInto is copyInto with ADD's archive rule: a file source that is a tar archive is extracted
 * into the destination, which is then always a directory (BuildKit creates it, 0755 and owned by
 * --chown); the archive's own owners are kept unless --chown, and --chmod does not apply to
 * extracted entries. Everything else is copied exactly as COPY does. Extraction never writes
 * outside the destination directory (see extractTar).
 */
export async function addInto(sel: Selection, destDir: string, dest: string, opts: AddIntoOptions = {}): Promise<AddResult> {
  const w = new LayerWriter(destDir, opts);
  const { target, destIsDir } = await resolveTarget(w, sel, dest, opts);
  const result: AddResult = { targets: [], files: 0, bytes: 0, extracted: [] };
  for (const src of sel.sources) {
    if (opts.unpack !== false && (await isArchiveSource(src))) {
      await extractInto(w, src, target, opts);
      result.targets.push(target);
      result.extracted.push(src.path);
      continue;
    }
    result.targets.push(await w.copySource(src, target, destIsDir, result));
  }
  await w.finish();
  return result;
}

async function isArchiveSource(src: SelectedSource): Promise<boolean> {
  const e = src.entries[0];
  return src.kind === 'file' && e !== undefined && e.type === 'file' && e.size > 0 && isTarArchive(e.abs);
}

async function extractInto(w: LayerWriter, src: SelectedSource, target: string, opts: AddIntoOptions): Promise<void> {
  if (await w.lowerType(target) === 'file') {
    throw new TsbuildError('BAD_ARCHIVE', `ADD failed: cannot extract "${src.source}" to ${target}: it is a file in the image`);
  }
  const dir = await w.ensureDir(target);
  const { stream, close } = await openDecompressed(src.entries[0]!.abs);
  const lower = opts.lower;
  const extractOpts = {
    ...(opts.chown ? { chown: opts.chown } : {}),
    ...(lower ? { implicitDir: async (rel: string) => {
      const st = await lower.lstat(target === '/' ? `/${rel}` : `${target}/${rel}`);
      return st?.type === 'dir' ? st : null;
    } } : {}),
  };
  try {
    await extractTar(stream, dir.host, extractOpts);
  } catch (e) {
    if (e instanceof TsbuildError) throw new TsbuildError(e.code, `ADD ${src.source}: ${e.message}`, { cause: e });
    throw new TsbuildError('BAD_ARCHIVE', `ADD ${src.source}: ${(e as Error).message}`, { cause: e });
  } finally {
    close();
  }
}
