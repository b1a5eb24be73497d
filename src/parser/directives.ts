import type { Directives, ParseWarning } from './types.ts';
import { parseError, rangeAt } from './errors.ts';

// Go's RE2 `\s` is [\t\n\f\r ]; the value is non-empty with trailing white space removed.
const DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*([^\n]+?)[\t\n\f\r ]*$/;
const KNOWN = new Set(['syntax', 'escape', 'check']);

/**
 * DirectiveReader reads the parser directives (`# escape=`, `# syntax=`,
 * `# check=`) from the top of the file: each leading line is offered until the
 * first one that is not a directive; after that no line is one. A directive
 * given twice, or an escape other than `\` or `` ` ``, is an error.
 */
export class DirectiveReader {
  readonly directives: Directives = { escape: '\\' };
  private done = false;
  private readonly seen = new Set<string>();

  constructor(private readonly file: string) {}

  /** offer passes a line (leading white space removed, starting at col); true if it was a directive. */
  offer(line: string, no: number, col: number): boolean {
    if (this.done) return false;
    const m = DIRECTIVE.exec(line);
    const name = m?.[1]?.toLowerCase();
    if (m === null || name === undefined || !KNOWN.has(name)) {
      this.done = true;
      return false;
    }
    const pos = { line: no, col };
    if (this.seen.has(name)) throw parseError('PARSE_DIRECTIVE', `only one ${name} parser directive can be used`, this.file, pos);
    this.seen.add(name);
    this.apply(name, m[2]!, pos);
    return true;
  }

  private apply(name: string, value: string, pos: { line: number; col: number }): void {
    if (name === 'escape') {
      if (value !== '\\' && value !== '`') throw parseError('PARSE_DIRECTIVE', `invalid escape token '${value}' does not match \` or \\`, this.file, pos);
      this.directives.escape = value;
    } else if (name === 'syntax') {
      this.directives.syntax = value;
    } else {
      this.directives.check = value;
    }
  }

  /** misplaced returns a warning when a comment after the directive block looks like a directive. */
  misplaced(line: string, no: number, col: number): ParseWarning | undefined {
    if (!this.done) return undefined;
    const name = DIRECTIVE.exec(line)?.[1]?.toLowerCase();
    if (name === undefined || !KNOWN.has(name)) return undefined;
    return {
      message: `parser directive "${name}" ignored: directives must come first in the file, before any comment, blank line or instruction`,
      range: rangeAt(this.file, { line: no, col }),
    };
  }
}
