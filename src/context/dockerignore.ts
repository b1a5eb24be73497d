import { posix } from 'node:path';
import { TsbuildError } from '../core/errors.ts';
import { classToRegex, compileGlob, regexLiteral } from './glob.ts';

/**
 * .dockerignore semantics, after moby/patternmatcher (ignorefile.ReadAll + PatternMatcher):
 * - a line starting with `#` is a comment (checked *before* trimming, as moby does);
 *   whitespace is trimmed; blank lines are skipped; a UTF-8 BOM is dropped;
 * - `!` negates (re-includes); the pattern is cleaned like filepath.Clean and a leading `/` dropped;
 * - `*`, `?`, `[...]`, `\c` as in filepath.Match; `**` matches any number of directories (also none);
 * - the last pattern that matches a path decides; a pattern matching a parent directory
 *   matches everything below it (MatchesOrParentMatches).
 */

/** parseDockerignore turns .dockerignore text into its list of patterns (negations keep their `!`). */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    let p = line.trim();
    if (p === '') continue;
    const invert = p.startsWith('!');
    if (invert) p = p.slice(1).trim();
    if (p !== '') {
      p = cleanPath(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    }
    out.push(invert ? '!' + p : p);
  }
  return out;
}

/** cleanPath is Go's filepath.Clean for slash paths ("" → "."). */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

/** Pattern is one compiled .dockerignore (or --exclude) pattern. */
export class Pattern {
  /** The cleaned pattern without its `!`. */
  readonly text: string;
  /** True for a `!pattern` that re-includes. */
  readonly exclusion: boolean;
  private readonly type: MatchType;
  private readonly re: RegExp | undefined;
  private readonly dirs: RegExp[] | null;

  constructor(raw: string) {
    let p = cleanPath(raw.trim());
    this.exclusion = p.startsWith('!');
    if (this.exclusion) {
      if (p.length === 1) throw new TsbuildError('USAGE', 'illegal exclusion pattern: "!"');
      p = p.slice(1);
    }
    this.text = p;
    compileGlob(p); // validates the syntax as filepath.Match(p, ".") does
    const c = compilePattern(p);
    this.type = c.type;
    this.re = c.re;
    this.dirs = componentMatchers(p);
  }

  /** match tells whether the path itself (slash-separated, relative, clean) matches. */
  match(path: string): boolean {
    switch (this.type) {
      case 'exact': return path === this.text;
      case 'prefix': return path.startsWith(this.text.slice(0, -2));
      case 'suffix': {
        const suffix = this.text.slice(2);
        return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
      }
      case 'regexp': return this.re!.test(path);
    }
  }

  /**
   * mayMatchBelow tells whether the pattern could match something strictly inside dir (or dir's
   * ancestors, which re-includes everything below). Conservative: true when unsure (`**`).
   */
  mayMatchBelow(dir: string): boolean {
    if (this.dirs === null) return true;
    const parts = dir.split('/');
    for (let i = 0; i < parts.length; i++) {
      const m = this.dirs[i];
      if (m === undefined) return true; // the pattern names an ancestor of dir
      if (!m.test(parts[i]!)) return false;
    }
    return true;
  }
}

/** compilePattern decides the match strategy the way moby does (fast paths for exact, `x**`, `**x`). */
function compilePattern(p: string): { type: MatchType; re: RegExp | undefined } {
  let type: MatchType = 'exact';
  let re = '^';
  let token = 0;
  for (let i = 0; i < p.length; token++) {
    const ch = p[i]!;
    if (ch === '*' && p[i + 1] === '*') {
      i += 2;
      if (p[i] === '/') i++;
      if (i >= p.length) {
        if (type === 'exact') type = 'prefix';
        else { re += '.*'; type = 'regexp'; }
      } else {
        re += '(?:.*/)?';
        type = 'regexp';
      }
      if (token === 0) type = 'suffix';
      continue;
    }
    if (ch === '*') { re += '[^/]*'; type = 'regexp'; i++; continue; }
    if (ch === '?') { re += '[^/]'; type = 'regexp'; i++; continue; }
    if (ch === '[') {
      const c = classToRegex(p, i);
      re += c.source;
      i = c.end;
      type = 'regexp';
      continue;
    }
    if (ch === '\\' && i + 1 < p.length) {
      i++;
      type = 'regexp';
    }
    const s = String.fromCodePoint(p.codePointAt(i)!);
    re += regexLiteral(s);
    i += s.length;
  }
  return { type, re: type === 'regexp' ? new RegExp(re + '$', 's') : undefined };
}

/** componentMatchers compiles each `/`-separated part, or null when a part holds `**`. */
function componentMatchers(p: string): RegExp[] | null {
  if (p.includes('**')) return null;
  try {
    return p.split('/').map((part) => compileGlob(part));
  } catch {
    return null; // a class spanning `/` cannot be split; stay conservative
  }
}

/** ParentMatches is what a directory passes to its children: which patterns matched it or an ancestor. */
export type ParentMatches = readonly boolean[];

/** PatternMatcher applies an ordered pattern list with Docker's last-match-wins rule. */
export class PatternMatcher {
  readonly patterns: readonly Pattern[];
  /** True when some pattern is a `!` negation. */
  readonly hasExclusions: boolean;

  constructor(patterns: readonly string[]) {
    this.patterns = patterns.filter((p) => p.trim() !== '').map((p) => new Pattern(p));
    this.hasExclusions = this.patterns.some((p) => p.exclusion);
  }

  /**
   * matches tells whether path (relative to the context root, slash-separated) is excluded:
   * moby's MatchesOrParentMatches. The root itself (".") is never excluded.
   */
  matches(path: string): boolean {
    const clean = cleanPath(path);
    if (clean === '.') return false;
    const parts = clean.split('/');
    let parent: ParentMatches = [];
    for (let i = 1; i < parts.length; i++) parent = this.hits(parts.slice(0, i).join('/'), parent);
    return this.decide(this.hits(clean, parent));
  }

  /**
   * hits records, for each pattern, whether it matches path or one of its ancestors (parent
   * holds the ancestors' hits; [] at the top). Walkers pass a directory's hits to its children.
   */
  hits(path: string, parent: ParentMatches): boolean[] {
    return this.patterns.map((p, i) => (parent[i] ?? false) || p.match(path));
  }

  /** decide runs the last-match-wins evaluation over precomputed hits. */
  decide(hits: ParentMatches): boolean {
    let matched = false;
    this.patterns.forEach((p, i) => {
      // As moby: an include is only tried while unmatched, a negation only while matched.
      if (p.exclusion !== matched) return;
      if (hits[i]) matched = !p.exclusion;
    });
    return matched;
  }

  /** mayReincludeBelow tells whether a walker must still descend into the excluded dir. */
  mayReincludeBelow(dir: string): boolean {
    return this.patterns.some((p) => p.exclusion && p.mayMatchBelow(dir));
  }
}
