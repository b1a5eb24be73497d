import type { BuildEvent, EventSink, StepRef } from '../events/types.ts';
import { escapeText } from './escapeText.ts';
import { palette, type Palette } from './colors.ts';
import { StepOutput } from './stepOutput.ts';

/** label renders a step as `[3/7] COPY a /b` (with the stage name when there are several), escaped (escapeText). */
export function stepLabel(s: StepRef): string {
  const stage = s.stage ? `${s.stage} ` : '';
  return escapeText(`[${stage}${s.index}/${s.total}] ${s.text}`);
}

/** seconds formats a duration in ms the way the step lines show it (`0.42s`, `12.3s`). */
export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)}s` : `${(ms / 1000).toFixed(1)}s`;
}

/**
 * PlainRenderer writes one timestamped line per event (time since the build
 * started), for CI logs and --progress=plain: no control characters, output
 * lines prefixed with their step so interleaved stages stay readable, each as a
 * terminal would show it (StepOutput: `\r\n` endings, `\r` redraws, colours
 * dropped), the last unfinished one when its step ends. Step texts and messages
 * are escaped (escapeText). With colour, CACHED is dim and ERROR red.
 */
export class PlainRenderer implements EventSink {
  readonly #out: NodeJS.WritableStream;
  readonly #c: Palette;
  #start = Date.now();
  readonly #output = new Map<string, StepOutput>();
  readonly #started = new Set<string>();

  constructor(out: NodeJS.WritableStream, opts: { color?: boolean } = {}) {
    this.#out = out;
    this.#c = palette(opts.color ?? false);
  }

  emit(e: BuildEvent): void {
    const t = `${((e.at - this.#start) / 1000).toFixed(2).padStart(6)}s`;
    const line = (s: string) => this.#out.write(`${t} ${s}\n`);
    switch (e.type) {
      case 'build.start': this.#start = e.at; break;
      case 'step.start': this.#started.add(e.step.id); line(stepLabel(e.step)); break;
      case 'step.cached': line(`${stepLabel(e.step)}  ${this.#c.dim('CACHED')}`); break;
      // A config-only step (ENV, CMD, …) never starts: one line, no timing.
      case 'step.done':
        this.#end(e.step, line);
        line(this.#started.has(e.step.id) ? `${stepLabel(e.step)}  done ${seconds(e.ms)}` : stepLabel(e.step));
        break;
      case 'step.failed':
        this.#end(e.step, line);
        line(`${stepLabel(e.step)}  ${this.#c.bad('ERROR:')} ${escapeText(e.message)}`);
        break;
      case 'step.log': {
        let o = this.#output.get(e.step.id);
        if (!o) this.#output.set(e.step.id, (o = new StepOutput()));
        this.#print(e.step, o.write(e.stream, e.text), line);
        break;
      }
      case 'build.done': line(`done ${seconds(e.ms)}: ${e.imageId}${e.tags.length ? ` (${e.tags.join(', ')})` : ''}`); break;
      case 'warning': line(`${this.#c.warn('WARNING:')} ${escapeText(e.message)}`); break;
      case 'info': line(escapeText(e.message)); break;
    }
  }

  #end(step: StepRef, line: (s: string) => void): void {
    const o = this.#output.get(step.id);
    if (!o) return;
    this.#output.delete(step.id);
    this.#print(step, o.end().map((l) => l.text), line);
  }

  #print(step: StepRef, lines: string[], line: (s: string) => void): void {
    const prefix = `[${step.stage ? `${step.stage} ` : ''}${step.index}/${step.total}]`;
    for (const l of lines) line(`${prefix} | ${l}`);
  }
}
