/**
 * Text helpers that follow Go's definitions, because the reference parser is
 * written in Go and its output depends on them: Go's Unicode white-space set
 * (JavaScript's `trim()` and `\s` differ in both directions) and Go's
 * `strconv.Quote` (the dump format; `JSON.stringify` differs).
 */

/** isGoSpace tells whether a UTF-16 code unit is in Go's `unicode.IsSpace` set (all of which are BMP). */
export function isGoSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0x85) return false;
  return c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** isBlank tells whether a code unit is in the ASCII "blank run" set `[ \t\v\f\r]`. */
export function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d;
}

/** goSpaceClass is Go's white-space set as a regular-expression character class body. */
export const GO_SPACE_CLASS = '\\t\\n\\v\\f\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';

/** leftSpaceLen counts the leading Go white space of s (in code units). */
export function leftSpaceLen(s: string): number {
  let i = 0;
  while (i < s.length && isGoSpace(s.charCodeAt(i))) i++;
  return i;
}

/** rightSpaceEnd returns the index just past the last non-space code unit of s. */
export function rightSpaceEnd(s: string): number {
  let j = s.length;
  while (j > 0 && isGoSpace(s.charCodeAt(j - 1))) j--;
  return j;
}

/** trimGo is Go's strings.TrimSpace. */
export function trimGo(s: string): string {
  const i = leftSpaceLen(s);
  if (i === s.length) return '';
  return s.slice(i, rightSpaceEnd(s));
}

/** trimLeftGo is Go's strings.TrimLeftFunc(s, unicode.IsSpace). */
export function trimLeftGo(s: string): string {
  const i = leftSpaceLen(s);
  return i === 0 ? s : s.slice(i);
}

const SIMPLE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const NAMED: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v', 34: '\\"', 92: '\\\\' };

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function quoteCodePoint(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const named = NAMED[cp];
  if (named !== undefined) return named;
  if (cp === 0x20 || (cp > 0x7f && PRINTABLE.test(ch)) || (cp > 0x20 && cp < 0x7f)) return ch;
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  // A lone surrogate cannot come from valid UTF-8; Go's decoders turn it into U+FFFD.
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd';
  return cp <= 0xffff ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
}

/** goQuote renders s exactly as Go's strconv.Quote (and `%q`) would. */
export function goQuote(s: string): string {
  if (SIMPLE.test(s)) return `"${s}"`;
  let out = '"';
  for (const ch of s) out += quoteCodePoint(ch);
  return out + '"';
}
