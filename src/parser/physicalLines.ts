import { TsbuildError } from '../core/errors.ts';
import { parseError, rangeAt } from './errors.ts';

/** MAX_LINE_BYTES is the reference's limit on one physical line (bytes of UTF-8, newline excluded). */
export const MAX_LINE_BYTES = 65535;

/** PhysicalLine is one line of the file as read. */
export interface PhysicalLine {
  /** 1-based line number. */
  no: number;
  /** The line with all trailing CR/LF removed (and a BOM removed from line 1). */
  text: string;
  /** The line exactly as in the file, including its `\n` if it had one (heredoc bodies keep this). */
  raw: string;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 2 : c >= 0xdc00 && c <= 0xdfff ? 2 : 3;
  }
  return n;
}

function trimNewline(s: string): string {
  let j = s.length;
  while (j > 0 && (s.charCodeAt(j - 1) === 13 || s.charCodeAt(j - 1) === 10)) j--;
  return j === s.length ? s : s.slice(0, j);
}

/**
 * splitLines splits a Buildfile into physical lines: after each `\n`; the
 * last line may lack one; an empty file has none. Every physical line counts
 * for numbering, whatever later happens to it. A NUL character is refused
 * (PARSE_ENCODING at its line and column): the reference would keep it.
 */
export function splitLines(src: string, file: string): PhysicalLine[] {
  const out: PhysicalLine[] = [];
  let start = 0;
  while (start < src.length) {
    const nl = src.indexOf('\n', start);
    const end = nl < 0 ? src.length : nl + 1;
    let raw = src.slice(start, end);
    if (out.length === 0 && raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
    const text = trimNewline(raw);
    const no = out.length + 1;
    const nul = raw.indexOf('\0');
    if (nul >= 0) {
      throw new TsbuildError('PARSE_ENCODING', 'the file contains a NUL byte, which a text file does not have', {
        range: rangeAt(file, { line: no, col: nul + 1 }),
        hint: 'remove it, or check that this is the Buildfile and not a binary file',
      });
    }
    if (text.length > MAX_LINE_BYTES / 3 && utf8Length(text) > MAX_LINE_BYTES) {
      throw parseError('PARSE_SYNTAX', `dockerfile line greater than max allowed size of ${MAX_LINE_BYTES}`, file, { line: no, col: 1 });
    }
    out.push({ no, text, raw });
    start = end;
  }
  return out;
}

/** LineCursor reads physical lines in order and remembers the last one consumed. */
export class LineCursor {
  private i = 0;
  constructor(private readonly lines: readonly PhysicalLine[]) {}

  /** hasNext tells whether a line is left. */
  hasNext(): boolean {
    return this.i < this.lines.length;
  }

  /** next consumes one line (callers check hasNext first). */
  next(): PhysicalLine {
    return this.lines[this.i++]!;
  }

  /** last is the most recently consumed line. */
  last(): PhysicalLine | undefined {
    return this.lines[this.i - 1];
  }
}
