/**
 * context/: the build context and COPY/ADD file semantics (no container needed).
 *
 * How the build engine uses it:
 *
 *   const ctx = await BuildContext.open(contextDir, { statCachePath })         // reads .dockerignore
 *   const sel = await ctx.select(['src/', '*.txt'], { exclude: [], parents: false })
 *                                                  // throws TsbuildError('COPY_SOURCE_MISSING')
 *   const key = await ctx.digest(sel, { chown: { uid: 0, gid: 0 }, chmod: '0755' })  // Digest, for the cache key
 *   await copyInto(sel, layerDir, '/app/', { workdir: '/', chown, chmod, lower: lowerFromDirs(lowerdirs) })
 *   await ctx.saveStatCache()
 *
 * ADD:
 *   await addInto(sel, layerDir, dest, opts)          // local tar archives extracted, the rest as COPY
 *   const f = await fetchUrl(url, { tmpDir, checksum })  // ADD <url>: sha256-verified download, mode 0600
 *   const key = await sourcesDigest(f.selection, { chown, chmod }, () => hexOf(f.digest))
 *   await copyInto(f.selection, layerDir, dest, opts); await f.cleanup()   // addInto for ADD --unpack=true
 * See docs/CONTEXT.md for the Docker/BuildKit behaviours followed, and where we differ.
 */
export { addInto, type AddIntoOptions, type AddResult } from './add.ts';
export { BuildContext, type BuildContextOptions } from './BuildContext.ts';
export { ContextFs } from './ContextFs.ts';
export { copyInto, resolveTarget, type CopyIntoOptions, type CopyResult } from './copyInto.ts';
export { detectCompression, isTarArchive, openDecompressed, type Compression } from './decompress.ts';
export { extractTar, type ExtractOptions, type ExtractResult } from './extractArchive.ts';
export { fetchUrl, redactUrl, urlFilename, type FetchedUrl, type FetchUrlOptions } from './fetchUrl.ts';
export { LayerWriter } from './LayerWriter.ts';
export { parseChmod, type ChmodSpec } from './chmod.ts';
export { parseDockerignore, PatternMatcher, Pattern } from './dockerignore.ts';
export { globMatch, hasWildcards } from './glob.ts';
export { hashFile, type HashFileFn } from './hashFile.ts';
export { lowerFromDirs, lowerFromLayers, lowerFromRoot, resolveInLower, type LowerFs, type LowerLayer, type LowerStat, type PlannedNode } from './lower.ts';
export { NeedsDirectory, planCopy, type LayerTree, type TreeFile, type TreeMeta, type TreeNode } from './planCopy.ts';
export { sourcesDigest, type DigestOptions } from './sourcesDigest.ts';
export { StatCache } from './StatCache.ts';
export type { EntryType, Owner, SelectedSource, Selection, SelectOptions, SourceEntry } from './types.ts';
