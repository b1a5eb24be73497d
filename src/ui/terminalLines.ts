/** A line longer than this many characters is cut into lines, as a terminal wraps it (bounds memory). */
const MAX_LINE = 16_384;

/**
 * One token of output: a run of printable text, a line feed, a carriage return, a backspace, a tab,
 * a CSI sequence (ESC [ or U+009B, parameters, final byte), an OSC or other string sequence (ended
 * by BEL or ESC \), a two-character escape (ESC 7, ESC ( B, …), or any other control character
 * (a lone ESC included). Every character starts some token.
 * An escape sequence cut off at the end of a chunk does not match and waits for the next chunk.
 */
// eslint-disable-next-line no-control-regex
const TOKEN = /([^\x00-\x1f\x7f-\x9f]+)|(\n)|(\r)|(\x08)|(\t)|(?:\x1b\[|\x9b)([0-?]*)[ -/]*([@-~])|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[ -/]*[0-~]|[\x00-\x1f\x7f-\x9f]/gy;

/** INCOMPLETE matches an escape sequence that a later chunk may finish (from its ESC to the end). */
// eslint-disable-next-line no-control-regex
const INCOMPLETE = /(?:\x1b(?:\[[0-?]*[ -/]*|[\]PX^_][^\x07\x1b]*\x1b?|[ -/]*)?|\x9b[0-?]*[ -/]*)$/;

/**
 * TerminalLines turns program output into the lines a terminal would show for it: `\n` ends a
 * line; `\r` returns to its start, so what follows overwrites it (a progress bar redrawn with
 * `\r` shows its latest state, and a line ending in `\r\n`, as apt and everything else printing
 * through a pseudo-terminal writes them, is intact); backspace, tab, and the CSI sequences that
 * move along or erase the line (C, D, G, K) act on it; colours and every other escape sequence
 * or control character are dropped. The lines it gives hold printable characters only, without
 * trailing spaces. Feed it chunks as they come: a sequence split between two chunks is kept
 * until it is whole. (~30 MB/s.)
 */
export class TerminalLines {
  /** The line's cells (UTF-16 code units; a gap the cursor jumped over is spaces) and the cursor. */
  #text = '';
  #col = 0;
  #pending = '';

  /** write takes a chunk of output and returns the lines it finished. */
  write(text: string): string[] {
    const s = this.#pending + text;
    const cut = s.search(INCOMPLETE);
    const whole = cut < 0 ? s : s.slice(0, cut);
    this.#pending = s.slice(whole.length);
    const done: string[] = [];
    TOKEN.lastIndex = 0;
    for (let m = TOKEN.exec(whole); m !== null; m = TOKEN.exec(whole)) {
      if (m[1] !== undefined) this.#print(m[1], done);
      else if (m[2] !== undefined) done.push(this.#finish());
      else if (m[3] !== undefined) this.#col = 0;
      else if (m[4] !== undefined) this.#col = Math.max(0, this.#col - 1);
      else if (m[5] !== undefined) this.#print(' '.repeat(8 - (this.#col % 8)), done);
      else if (m[7] !== undefined) this.#csi(m[6] ?? '', m[7]);
    }
    return done;
  }

  /** current is the unfinished line as it stands now (what a terminal shows on the cursor's line). */
  get current(): string {
    return this.#text.trimEnd();
  }

  /** end returns the unfinished line, if it shows anything, and starts afresh (the output ended). */
  end(): string | undefined {
    this.#pending = '';
    const last = this.#finish();
    return last === '' ? undefined : last;
  }

  #print(run: string, done: string[]): void {
    for (let rest = run; rest !== '';) {
      if (this.#col >= MAX_LINE) done.push(this.#finish());
      const part = rest.slice(0, MAX_LINE - this.#col);
      rest = rest.slice(part.length);
      const t = this.#text.length < this.#col ? this.#text.padEnd(this.#col) : this.#text;
      // Appending (the cursor at the end) is the common case: no copy of the line's tail.
      this.#text = this.#col === t.length ? t + part : t.slice(0, this.#col) + part + t.slice(this.#col + part.length);
      this.#col += part.length;
    }
  }

  #finish(): string {
    const line = this.current;
    this.#text = '';
    this.#col = 0;
    return line;
  }

  /** #csi applies the sequences that act on the current line; the rest (colours, other lines) do nothing here. */
  #csi(params: string, final: string): void {
    const n = Number.parseInt(params, 10);
    switch (final) {
      case 'C': this.#col = Math.min(MAX_LINE - 1, this.#col + (n || 1)); break;
      case 'D': this.#col = Math.max(0, this.#col - (n || 1)); break;
      case 'G': this.#col = Math.min(MAX_LINE - 1, Math.max(0, (n || 1) - 1)); break;
      case 'K':
        if (n === 2) this.#text = '';
        else if (n === 1) this.#text = ' '.repeat(Math.min(this.#col + 1, this.#text.length)) + this.#text.slice(this.#col + 1);
        else this.#text = this.#text.slice(0, this.#col);
        break;
    }
  }
}
