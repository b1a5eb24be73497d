import { TsbuildError } from '../core/errors.ts';

/**
 * Go's filepath.Match syntax, which COPY sources, `COPY --exclude` and .dockerignore
 * patterns share:
 *   `*`  any run of non-`/` characters      `?`  one non-`/` character
 *   `[...]`, `[^...]`  a non-empty class of characters or ranges `lo-hi`
 *   `\c` the character c itself
 * Inside a class, `-` and `]` must be escaped unless they close or form a range.
 */

/** hasWildcards tells whether a path contains an unescaped `*`, `?` or `[` (BuildKit's containsWildcards). */
export function hasWildcards(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

/** unescapeGlob turns a wildcard-free pattern into the literal path it names (`a\[1\]` → `a[1]`). */
export function unescapeGlob(p: string): string {
  return p.replace(/\\(.)/gs, '$1');
}

function badPattern(pattern: string, why: string): TsbuildError {
  return new TsbuildError('USAGE', `syntax error in pattern "${pattern}": ${why}`);
}

/** regexLiteral escapes one character for use in a RegExp (outside or inside a class). */
export function regexLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/**
 * classToRegex parses the class starting at pattern[start] === '[' (Go's grammar) and returns
 * its RegExp source and the index just past the closing `]`. Throws on a malformed class.
 */
export function classToRegex(pattern: string, start: number): { source: string; end: number } {
  let i = start + 1;
  let negated = false;
  if (pattern[i] === '^') { negated = true; i++; }
  let body = '';
  let ranges = 0;
  const esc = (): string => {
    let c = pattern[i];
    if (c === undefined || c === '-' || c === ']') throw badPattern(pattern, 'bad character class');
    if (c === '\\') {
      i++;
      c = pattern[i];
      if (c === undefined) throw badPattern(pattern, 'trailing backslash in class');
    }
    const cp = pattern.codePointAt(i)!;
    const s = String.fromCodePoint(cp);
    i += s.length;
    return s;
  };
  for (;;) {
    if (pattern[i] === ']' && ranges > 0) { i++; break; }
    if (i >= pattern.length) throw badPattern(pattern, 'unclosed character class');
    const lo = esc();
    let part = regexLiteral(lo);
    if (pattern[i] === '-') {
      i++;
      const hi = esc();
      part += '-' + regexLiteral(hi);
      // Go accepts lo > hi (the range just never matches); a JS class would throw.
      if (lo.codePointAt(0)! > hi.codePointAt(0)!) part = '(?!)';
    }
    body += part;
    ranges++;
  }
  if (body.includes('(?!)')) {
    // Keep only the valid ranges; an inverted range contributes nothing.
    body = body.split('(?!)').join('');
    if (body === '') return { source: negated ? '[^]' : '(?!)', end: i };
  }
  return { source: `[${negated ? '^' : ''}${body}]`, end: i };
}

/**
 * compileGlob compiles a filepath.Match pattern into an anchored RegExp in which `*` and `?`
 * never match `/`. Throws TsbuildError('USAGE') for a malformed pattern, as Go returns ErrBadPattern.
 */
export function compileGlob(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length;) {
    const ch = pattern[i]!;
    if (ch === '*') { re += '[^/]*'; i++; continue; }
    if (ch === '?') { re += '[^/]'; i++; continue; }
    if (ch === '[') {
      const c = classToRegex(pattern, i);
      re += c.source;
      i = c.end;
      continue;
    }
    if (ch === '\\') {
      if (i + 1 >= pattern.length) throw badPattern(pattern, 'trailing backslash');
      i++;
    }
    const s = String.fromCodePoint(pattern.codePointAt(i)!);
    re += regexLiteral(s);
    i += s.length;
  }
  return new RegExp(re + '$', 's');
}

/** globMatch is filepath.Match(pattern, name). */
export function globMatch(pattern: string, name: string): boolean {
  return compileGlob(pattern).test(name);
}
