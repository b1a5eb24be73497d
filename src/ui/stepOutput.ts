import { TerminalLines } from './terminalLines.ts';

/** Stream is where a line came from. */
export type Stream = 'stdout' | 'stderr';

/**
 * StepOutput is what one step printed, as a terminal would show it: a TerminalLines for each of
 * its streams (each has its own line; stdout and stderr are separate pipes), the count of lines
 * finished so far that show anything, and the last `keep` of those (blank lines would only take
 * room in a short window).
 */
export class StepOutput {
  readonly #keep: number;
  readonly #streams = new Map<Stream, TerminalLines>();
  readonly #tail: string[] = [];
  #count = 0;

  constructor(keep = 0) {
    this.#keep = keep;
  }

  /** write takes a chunk of a stream and returns the lines it finished. */
  write(stream: Stream, text: string): string[] {
    let t = this.#streams.get(stream);
    if (!t) this.#streams.set(stream, (t = new TerminalLines()));
    return this.#add(t.write(text));
  }

  /** end finishes the streams' unfinished lines (the step ended) and returns those that show anything. */
  end(): { stream: Stream; text: string }[] {
    const last: { stream: Stream; text: string }[] = [];
    for (const [stream, t] of this.#streams) {
      const text = t.end();
      if (text !== undefined) last.push({ stream, text });
    }
    this.#add(last.map((l) => l.text));
    return last;
  }

  /** count is the number of lines finished so far that show anything. */
  get count(): number {
    return this.#count;
  }

  /** tail is the last lines finished that show anything (at most `keep`). */
  get tail(): readonly string[] {
    return this.#tail;
  }

  /** window is the last n lines a terminal shows now: the finished ones, then the unfinished ones that show anything. */
  window(n: number): string[] {
    const live = [...this.#streams.values()].map((t) => t.current).filter((l) => l !== '');
    return [...this.#tail, ...live].slice(-n);
  }

  #add(lines: string[]): string[] {
    const shown = lines.filter((l) => l !== '');
    this.#count += shown.length;
    if (this.#keep > 0) {
      this.#tail.push(...shown);
      if (this.#tail.length > this.#keep) this.#tail.splice(0, this.#tail.length - this.#keep);
    }
    return lines;
  }
}
