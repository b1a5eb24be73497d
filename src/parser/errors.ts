import { TsbuildError, type ErrorCode } from '../core/errors.ts';
import type { SourceRange } from '../core/range.ts';
import type { Pos } from './cst.ts';

/** rangeAt makes a SourceRange for one position (start and end the same). */
export function rangeAt(file: string, pos: Pos, end: Pos = pos): SourceRange {
  return { file, startLine: pos.line, startCol: pos.col, endLine: end.line, endCol: end.col };
}

/** parseError is a TsbuildError anchored at a position of the Buildfile. */
export function parseError(code: ErrorCode, message: string, file: string, pos: Pos, end?: Pos): TsbuildError {
  return new TsbuildError(code, message, { range: rangeAt(file, pos, end) });
}
