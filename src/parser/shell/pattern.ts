/**
 * Shell glob patterns for `${VAR#pat}`, `${VAR%pat}` and `${VAR/pat/repl}`:
 * `*` matches any run, `?` one character, a backslash makes `*`, `?` or `\`
 * literal (and is dropped before `}` or `/`, which it only protects from the
 * expansion scanner). Bracket expressions are not supported, as in the reference.
 */

const REGEX_SPECIAL = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

/** PatternError is a malformed pattern (an escape of something other than `*`, `?` or `\`). */
export class PatternError extends Error {}

/** patternToRegExp converts a shell pattern into an equivalent RegExp (anchored at the start when asked). */
export function patternToRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') { out += greedy ? '.*' : '.*?'; continue; }
    if (ch === '?') { out += '.'; continue; }
    if (ch === '\\') {
      const next = chars[i + 1];
      if (next === '}' || next === '/') continue;
      i++;
      if (next !== '*' && next !== '?' && next !== '\\') throw new PatternError(`invalid escape '\\${next ?? ''}'`);
      out += '\\' + next;
      continue;
    }
    out += REGEX_SPECIAL.has(ch) ? '\\' + ch : ch;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

/** trimPrefix removes the shortest (or, greedy, longest) prefix of value matching pattern. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** reversePattern reverses a pattern while keeping each escape pair in front of what it escapes. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = new Array<string>(chars.length);
  const last = chars.length - 1;
  for (let i = 0; i <= last;) {
    const at = last - i;
    if (chars[i] === '\\' && i !== last) {
      out[at - 1] = '\\';
      out[at] = chars[i + 1]!;
      i += 2;
      continue;
    }
    out[at] = chars[i]!;
    i++;
  }
  return out.join('');
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

/**
 * trimSuffix removes the shortest (or longest) suffix of value matching pattern.
 * A regular expression cannot find the shortest rightmost match, so both strings
 * are reversed and the problem becomes a prefix match.
 */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/** substitute replaces the first (or every) match of pattern in value with a literal replacement. */
export function substitute(pattern: string, replacement: string, value: string, all: boolean): string {
  const re = patternToRegExp(pattern, true, false, all);
  return value.replace(re, () => replacement);
}
