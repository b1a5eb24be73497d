import { posix } from 'node:path';
import { TsbuildError } from '../core/errors.ts';
import { cleanSource, type ContextFs } from './ContextFs.ts';
import { PatternMatcher } from './dockerignore.ts';
import { compileGlob, hasWildcards, unescapeGlob } from './glob.ts';
import type { SelectedSource, Selection, SelectOptions, SourceEntry } from './types.ts';

/**
 * selectSources resolves COPY sources against the context the way BuildKit does:
 * - each source is relative to the context root; a leading `/`, `..` and a trailing `/` are dropped;
 * - wildcards (filepath.Match) are matched per path component; intermediate wildcard components
 *   descend only into real directories, the matches themselves are followed if they are symlinks;
 * - a named source that is a symlink (or passes through one) is followed *inside* the context;
 * - a directory source stands for its contents; a wildcard may match nothing.
 * Throws COPY_SOURCE_MISSING for a missing literal path, or when nothing at all was selected.
 */
export async function selectSources(fs: ContextFs, ignore: PatternMatcher | null, sources: readonly string[], opts: SelectOptions = {}): Promise<Selection> {
  const exclude = opts.exclude && opts.exclude.length > 0 ? new PatternMatcher(opts.exclude) : null;
  const out: SelectedSource[] = [];
  let wildcard = false;
  for (const source of sources) {
    if (opts.parents) {
      out.push(await selectWithParents(fs, source, exclude));
      continue;
    }
    const rel = cleanSource(source);
    if (hasWildcards(rel)) {
      wildcard = true;
      for (const match of await matchWildcard(fs, rel)) out.push(await selectOne(fs, source, match, exclude));
      continue;
    }
    const literal = unescapeGlob(rel);
    const r = await fs.resolve(literal);
    if (r === null) throw missing(source, literal, ignore);
    out.push(await selectOne(fs, source, literal, exclude));
  }
  if (out.length === 0 && !opts.allowEmpty) {
    throw new TsbuildError('COPY_SOURCE_MISSING', `COPY failed: no source files were specified (${sources.map((s) => JSON.stringify(s)).join(', ')} matched nothing)`, {
      hint: 'wildcards match names in the build context after .dockerignore',
    });
  }
  return { sources: out, multiple: sources.length > 1 || (wildcard && out.length > 1) || !!opts.parents, parents: !!opts.parents };
}

function missing(source: string, literal: string, ignore: PatternMatcher | null): TsbuildError {
  let hint: string | undefined;
  if (ignore?.matches(literal)) hint = `"${literal}" is excluded by .dockerignore`;
  else if (source.replace(/\\/g, '/').split('/').includes('..')) hint = 'source paths are relative to the build context root: `..` cannot leave it';
  return new TsbuildError('COPY_SOURCE_MISSING', `COPY failed: "/${literal === '.' ? '' : literal}" not found in build context`, hint ? { hint } : {});
}

/** selectOne builds the SelectedSource for a context path that exists (following it if a symlink). */
async function selectOne(fs: ContextFs, source: string, path: string, exclude: PatternMatcher | null): Promise<SelectedSource> {
  const r = await fs.resolve(path);
  if (r === null) throw missing(source, path, null);
  const name = path === '.' ? '.' : posix.basename(path);
  if (r.st.isDirectory()) {
    return { source, path, name, kind: 'dir', entries: await fs.walk(r.rel, exclude, r.st) };
  }
  const e = await fs.fileEntry(r.rel, r.st);
  if (e === null) throw new TsbuildError('COPY_SOURCE_MISSING', `COPY failed: "/${path}" is not a regular file, directory or symlink`);
  return { source, path, name, kind: 'file', entries: [e] };
}

/**
 * matchWildcard expands a cleaned pattern to the matching context paths (sorted). The literal
 * prefix is resolved through symlinks; the rest is matched one component at a time.
 */
async function matchWildcard(fs: ContextFs, pattern: string): Promise<string[]> {
  const parts = pattern.split('/');
  const first = parts.findIndex(hasWildcards);
  const prefix = parts.slice(0, first).map(unescapeGlob).join('/') || '.';
  const base = await fs.resolve(prefix);
  if (base === null || !base.st.isDirectory()) return [];
  // Matches keep the path as written (prefix) so the destination name is the matched name.
  let level: Array<{ written: string; real: string }> = [{ written: prefix, real: base.rel }];
  for (let i = first; i < parts.length; i++) {
    const re = compileGlob(parts[i]!);
    const last = i === parts.length - 1;
    const next: Array<{ written: string; real: string }> = [];
    for (const dir of level) {
      for (const name of await fs.readdir(dir.real)) {
        if (!re.test(name)) continue;
        const real = dir.real === '.' ? name : `${dir.real}/${name}`;
        const st = await fs.lstat(real);
        if (st === null || (!last && !st.isDirectory())) continue;
        next.push({ written: dir.written === '.' ? name : `${dir.written}/${name}`, real });
      }
    }
    level = next;
  }
  return level.map((m) => m.written);
}

/**
 * selectWithParents implements --parents: the source (optionally `pivot/./pattern`) becomes an
 * include pattern under the pivot; matched entries keep their path below the pivot, and the
 * directories leading to them are copied too. A wildcard-free source must exist.
 */
async function selectWithParents(fs: ContextFs, source: string, exclude: PatternMatcher | null): Promise<SelectedSource> {
  const cut = source.indexOf('/./');
  const pivotRaw = cut >= 0 ? source.slice(0, cut) : '.';
  const patRaw = cut >= 0 ? source.slice(cut + 3) : source;
  const pivot = cleanSource(pivotRaw);
  const pattern = cleanSource(patRaw);
  const base = await fs.resolve(pivot);
  if (base === null || !base.st.isDirectory()) throw missing(source, pivot, null);
  if (!hasWildcards(pivot) && !hasWildcards(pattern)) {
    const target = pivot === '.' ? pattern : `${pivot}/${pattern}`;
    if ((await fs.resolve(target)) === null) throw missing(source, target, null);
  }
  const include = new PatternMatcher([pattern]);
  const all = await fs.walk(base.rel, exclude, base.st);
  const kept = filterIncluded(all, include);
  return { source, path: pivot, name: '.', kind: 'dir', entries: kept };
}

/** filterIncluded keeps entries matching (or lying below a match of) the include pattern, plus their parent dirs. */
function filterIncluded(all: SourceEntry[], include: PatternMatcher): SourceEntry[] {
  const keep = new Set<string>(['.']);
  for (const e of all) {
    if (e.rel === '.' || !include.matches(e.rel)) continue;
    keep.add(e.rel);
    for (let d = posix.dirname(e.rel); d !== '.'; d = posix.dirname(d)) keep.add(d);
  }
  return all.filter((e) => keep.has(e.rel));
}
