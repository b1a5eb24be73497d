/**
 * CST nodes built by the grammar's postprocessors (grammar/buildfile.ne).
 * They only record what was written and where: line and column are already
 * mapped back to the physical Buildfile line (see PositionMap). All meaning
 * (which keyword takes which form, flag validation) is given later.
 */
import type { Token } from 'moo';

/** Pos is a 1-based line and column (columns count UTF-16 code units). */
export interface Pos {
  line: number;
  col: number;
}

/** CstText is a piece of source text with its decoded value and start. */
export interface CstText extends Pos {
  /** The decoded value (flags: quotes and escapes removed; others: as written). */
  value: string;
  /** Offset in the text given to the lexer. */
  offset: number;
}

/** LineCst is one instruction line: keyword, flags, and the argument text after them. */
export interface LineCst {
  keyword: CstText;
  flags: CstText[];
  args: CstText | null;
}

/** JsonCst is a JSON value of an exec-form argument; only strings are kept apart. */
export type JsonCst = { kind: 'string'; value: string; at: CstText } | { kind: 'other'; at: CstText };

/** text makes a CstText from a token (value as decoded by the lexer). */
export function text(t: Token): CstText {
  return { value: t.value, offset: t.offset, line: t.line, col: t.col };
}

/** joinTokens concatenates the values of adjacent tokens into one CstText starting at the first. */
export function joinTokens(toks: Token[]): CstText {
  const first = toks[0]!;
  let value = '';
  for (const t of toks) value += t.value;
  return { value, offset: first.offset, line: first.line, col: first.col };
}

/** line builds a LineCst. */
export function line(keyword: Token, flags: CstText[], args: Token | null): LineCst {
  return { keyword: text(keyword), flags, args: args === null ? null : text(args) };
}

/** jsonString and jsonOther classify an exec-form array element. */
export function jsonString(t: Token): JsonCst {
  return { kind: 'string', value: t.value, at: text(t) };
}

/** jsonOther marks a non-string element (a number, literal, object or nested array). */
export function jsonOther(t: Token): JsonCst {
  return { kind: 'other', at: text(t) };
}
