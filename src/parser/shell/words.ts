/** WordCollector accumulates the word-split view of a shell word while it is scanned. */
export class WordCollector {
  private word = '';
  private inWord = false;
  private readonly words: string[] = [];

  /** addChar adds a character that takes part in splitting: white space ends the current word. */
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
      return;
    }
    this.addRawChar(ch);
  }

  /** addRawChar adds a character that never splits (escaped, or part of a heredoc marker). */
  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  /** addString adds expanded text, which is split on white space. */
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  /** addRawString adds quoted text, which is never split (an empty quote adds no word by itself). */
  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  /** finish returns the words, including the one being built. */
  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

const SPACE = /^[\t\n\v\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]$/;

/** isSpace is Go's unicode.IsSpace for one code point. */
export function isSpace(ch: string): boolean {
  return SPACE.test(ch);
}
