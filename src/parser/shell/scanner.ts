/** EOF is what CodePointScanner returns past the end of its input. */
export const EOF = '';

/** CodePointScanner walks a string one Unicode code point at a time (Go's text/scanner in raw mode). */
export class CodePointScanner {
  private readonly chars: string[];
  private pos = 0;

  constructor(text: string) {
    this.chars = Array.from(text);
  }

  /** peek returns the next code point without consuming it, or EOF. */
  peek(): string {
    return this.chars[this.pos] ?? EOF;
  }

  /** next consumes and returns the next code point, or EOF. */
  next(): string {
    const ch = this.chars[this.pos];
    if (ch === undefined) return EOF;
    this.pos++;
    return ch;
  }
}
