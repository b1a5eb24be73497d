import type { BuildEvent, EventSink, StepRef } from '../events/types.ts';
import { seconds, stepLabel } from './plainRenderer.ts';
import { escapeText } from './escapeText.ts';
import { fitWidth, fitWithSuffix } from './fitWidth.ts';
import { palette as makePalette, type Palette } from './colors.ts';
import { StepOutput } from './stepOutput.ts';

/** Output lines shown under a running step, and under a failed one. */
const LOG_WINDOW = 5;
const FAIL_TAIL = 20;

/** Spinner is the part of an ora spinner the renderer drives (an Ora is one; tests use a fake). */
export interface Spinner {
  readonly isSpinning: boolean;
  text: string;
  start(): unknown;
  stop(): unknown;
  stopAndPersist(options: { symbol: string; text: string }): unknown;
}

/** TtyOptions: the terminal's width now (it can be resized) and whether to colour. */
export interface TtyOptions {
  columns(): number;
  color: boolean;
}

interface Running {
  step: StepRef;
  started: number;
  output: StepOutput;
}

/**
 * TtyRenderer shows an ora spinner over the running steps (elapsed time and the last lines of
 * their output, as a terminal would show them: StepOutput) and leaves one finished line per step
 * above it. Every line is cut to the terminal's width (the step's text, never its timer), so
 * nothing wraps and the spinner redraws cleanly; a finished step leaves the spinner before it is
 * persisted, so it never shows twice. A failed step leaves its last lines of output and says how
 * to see the rest; its error is printed once, by the CLI, after the spinner.
 */
export class TtyRenderer implements EventSink {
  readonly #spinner: Spinner;
  readonly #columns: () => number;
  readonly #c: Palette;
  readonly #running = new Map<string, Running>();
  #timer: NodeJS.Timeout | undefined;

  constructor(spinner: Spinner, opts: TtyOptions) {
    this.#spinner = spinner;
    this.#columns = opts.columns;
    this.#c = makePalette(opts.color);
  }

  emit(e: BuildEvent): void {
    switch (e.type) {
      case 'build.start':
        this.#timer = setInterval(() => this.#redraw(), 100);
        this.#timer.unref();
        break;
      case 'step.start':
        this.#running.set(e.step.id, { step: e.step, started: e.at, output: new StepOutput(FAIL_TAIL) });
        this.#redraw();
        if (!this.#spinner.isSpinning) this.#spinner.start();
        break;
      case 'step.log': this.#running.get(e.step.id)?.output.write(e.stream, e.text); break;
      case 'step.cached': this.#persist(this.#c.ok('✔'), this.#line(stepLabel(e.step), 'CACHED', this.#c.dim), e.step); break;
      case 'step.done': {
        const r = this.#running.get(e.step.id);
        this.#persist(this.#c.ok('✔'), this.#line(stepLabel(e.step), r ? seconds(e.ms) : ''), e.step);
        break;
      }
      case 'step.failed': this.#failed(e.step, e.at); break;
      case 'build.done': {
        this.#stop();
        // The id itself goes to stdout (scripts read it); the terminal gets a summary.
        const what = e.tags.length ? e.tags.join(', ') : e.imageId.slice(7, 19);
        this.#spinner.stopAndPersist({ symbol: this.#c.ok('✔'), text: fitWidth(`built ${escapeText(what)} in ${seconds(e.ms)}`, this.#width()) });
        break;
      }
      case 'warning': this.#above(this.#c.warn('⚠'), escapeText(e.message)); break;
      case 'info': this.#above(' ', escapeText(e.message)); break;
    }
  }

  /** #width is the room for a line after ora's `⠋ ` prefix, one column short of the edge (no autowrap). */
  #width(): number {
    return Math.max(10, this.#columns() - 3);
  }

  #line(label: string, suffix: string, color: (s: string) => string = (s) => s): string {
    const fitted = fitWithSuffix(label, suffix, this.#width());
    return suffix && fitted.endsWith(suffix) ? fitted.slice(0, -suffix.length) + color(suffix) : fitted;
  }

  #failed(step: StepRef, at: number): void {
    const r = this.#running.get(step.id);
    let text = this.#line(stepLabel(step), r ? seconds(at - r.started) : '');
    if (r) {
      r.output.end();
      const shown = r.output.tail;
      // Lines after the first have no `✖ ` before them: two columns more.
      const width = this.#width() + 2;
      if (r.output.count > shown.length) text += `\n    ${this.#c.dim(fitWidth(`… ${r.output.count - shown.length} earlier lines; --progress=plain shows all of the output`, width - 4))}`;
      for (const l of shown) text += `\n    ${this.#c.dim('│')} ${fitWidth(l, width - 6)}`;
    }
    this.#persist(this.#c.bad('✖'), text, step);
  }

  /** #persist takes a step out of the spinner and then leaves its line above it. */
  #persist(symbol: string, text: string, step: StepRef): void {
    this.#running.delete(step.id);
    this.#spinner.stopAndPersist({ symbol, text });
    this.#redraw();
    if (this.#running.size > 0) this.#spinner.start();
  }

  #above(symbol: string, text: string): void {
    const spinning = this.#spinner.isSpinning;
    this.#spinner.stopAndPersist({ symbol, text: wrap(text, this.#width(), '  ') });
    if (spinning) this.#spinner.start();
  }

  #redraw(): void {
    const width = this.#width();
    const now = Date.now();
    const lines: string[] = [];
    for (const r of this.#running.values()) {
      // ora prefixes only the first line with the spinner: indent the rest to match.
      lines.push(`${lines.length ? '  ' : ''}${fitWithSuffix(stepLabel(r.step), seconds(now - r.started), width)}`);
      // Lines after the first have no `⠋ ` before them: two columns more.
      for (const t of r.output.window(LOG_WINDOW)) lines.push(`    ${this.#c.dim('│')} ${fitWidth(t, width + 2 - 6)}`);
    }
    this.#spinner.text = lines.join('\n');
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** close stops the spinner without a final line (on failure). */
  close(): void {
    this.#stop();
    if (this.#spinner.isSpinning) this.#spinner.stop();
  }
}

/**
 * wrap breaks a message into lines of at most width columns after ora's symbol, at spaces where it
 * can; the lines after the first have no symbol before them, so they are indented by as much.
 */
function wrap(text: string, width: number, indent: string): string {
  const out: string[] = [];
  let rest = text;
  while (rest !== '') {
    const room = out.length ? width + 2 - indent.length : width;
    const line = fitWidth(rest, room);
    if (!line.endsWith('…') || line === rest) { out.push(rest); break; }
    const head = line.slice(0, -1);
    const space = head.lastIndexOf(' ');
    const cut = space > room / 2 ? space : head.length;
    out.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  return out.map((l, i) => (i ? indent + l : l)).join('\n');
}
