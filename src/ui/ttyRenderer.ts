import type { BuildEvent, EventSink, StepRef } from '../events/types.ts';
import { seconds, stepLabel, stripControl } from './plainRenderer.ts';
import { escapeText } from './escapeText.ts';

const LOG_TAIL = 5;

/** Spinner is the part of an ora spinner the renderer drives (an Ora is one; tests use a fake). */
export interface Spinner {
  readonly isSpinning: boolean;
  text: string;
  start(): unknown;
  stop(): unknown;
  stopAndPersist(options: { symbol: string; text: string }): unknown;
}

interface Running {
  step: StepRef;
  started: number;
  tail: string[];
  partial: string;
}

/**
 * TtyRenderer shows an ora spinner over the running steps (elapsed time and
 * their last log lines) and leaves one finished line per step behind it.
 */
export class TtyRenderer implements EventSink {
  readonly #spinner: Spinner;
  readonly #running = new Map<string, Running>();
  #timer: NodeJS.Timeout | undefined;

  constructor(spinner: Spinner) {
    this.#spinner = spinner;
  }

  emit(e: BuildEvent): void {
    switch (e.type) {
      case 'build.start':
        this.#timer = setInterval(() => this.#redraw(), 100);
        this.#timer.unref();
        break;
      case 'step.start':
        this.#running.set(e.step.id, { step: e.step, started: e.at, tail: [], partial: '' });
        if (!this.#spinner.isSpinning) this.#spinner.start();
        break;
      case 'step.log': this.#log(e.step, e.text); break;
      case 'step.cached': this.#persist('✔', `${stepLabel(e.step)}  CACHED`, e.step); break;
      case 'step.done': this.#persist('✔', this.#running.has(e.step.id) ? `${stepLabel(e.step)}  ${seconds(e.ms)}` : stepLabel(e.step), e.step); break;
      case 'step.failed': this.#persist('✖', `${stepLabel(e.step)}  ${escapeText(e.message)}`, e.step, true); break;
      case 'build.done':
        this.#stop();
        // The id itself goes to stdout (scripts read it); the terminal gets a summary.
        this.#spinner.stopAndPersist({ symbol: '✔', text: `built ${e.tags.length ? e.tags.join(', ') : e.imageId.slice(7, 19)} in ${seconds(e.ms)}` });
        break;
      case 'warning': this.#above(`⚠ ${escapeText(e.message)}`); break;
      case 'info': this.#above(escapeText(e.message)); break;
    }
  }

  #log(step: StepRef, text: string): void {
    const r = this.#running.get(step.id);
    if (!r) return;
    const parts = (r.partial + text).split('\n');
    r.partial = parts.pop() ?? '';
    for (const p of parts) {
      const clean = stripControl(p).trimEnd();
      if (clean) r.tail.push(clean);
    }
    if (r.tail.length > LOG_TAIL) r.tail.splice(0, r.tail.length - LOG_TAIL);
  }

  #persist(symbol: string, text: string, step: StepRef, failed = false): void {
    const r = this.#running.get(step.id);
    this.#running.delete(step.id);
    const tail = failed && r ? r.tail.map((l) => `\n    ${l}`).join('') : '';
    this.#spinner.stopAndPersist({ symbol, text: text + tail });
    if (this.#running.size > 0) this.#spinner.start();
    this.#redraw();
  }

  #above(text: string): void {
    const spinning = this.#spinner.isSpinning;
    this.#spinner.stopAndPersist({ symbol: ' ', text });
    if (spinning) this.#spinner.start();
  }

  #redraw(): void {
    if (this.#running.size === 0) return;
    const cols = Math.max(40, (process.stderr.columns ?? 100) - 4);
    const now = Date.now();
    const lines: string[] = [];
    for (const r of this.#running.values()) {
      // ora prefixes only the first line with the spinner: indent the rest to match.
      lines.push(`${lines.length ? '  ' : ''}${stepLabel(r.step)}  ${seconds(now - r.started)}`.slice(0, cols));
      for (const t of r.tail) lines.push(`    │ ${t}`.slice(0, cols));
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
