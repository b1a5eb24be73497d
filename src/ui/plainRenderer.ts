import type { BuildEvent, EventSink, StepRef } from '../events/types.ts';
import { escapeText } from './escapeText.ts';

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
 * lines prefixed with their step so interleaved stages stay readable. Step
 * texts and messages are escaped (escapeText); output lines lose their
 * terminal controls (stripControl).
 */
export class PlainRenderer implements EventSink {
  readonly #out: NodeJS.WritableStream;
  #start = Date.now();
  readonly #partial = new Map<string, string>();
  readonly #started = new Set<string>();

  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  emit(e: BuildEvent): void {
    const t = `${((e.at - this.#start) / 1000).toFixed(2).padStart(6)}s`;
    const line = (s: string) => this.#out.write(`${t} ${s}\n`);
    switch (e.type) {
      case 'build.start': this.#start = e.at; break;
      case 'step.start': this.#started.add(e.step.id); line(stepLabel(e.step)); break;
      case 'step.cached': line(`${stepLabel(e.step)}  CACHED`); break;
      // A config-only step (ENV, CMD, …) never starts: one line, no timing.
      case 'step.done': line(this.#started.has(e.step.id) ? `${stepLabel(e.step)}  done ${seconds(e.ms)}` : stepLabel(e.step)); break;
      case 'step.failed': line(`${stepLabel(e.step)}  ERROR: ${escapeText(e.message)}`); break;
      case 'step.log': this.#log(e.step, e.text, line); break;
      case 'build.done': line(`done ${seconds(e.ms)}: ${e.imageId}${e.tags.length ? ` (${e.tags.join(', ')})` : ''}`); break;
      case 'warning': line(`WARNING: ${escapeText(e.message)}`); break;
      case 'info': line(escapeText(e.message)); break;
    }
  }

  #log(step: StepRef, text: string, line: (s: string) => void): void {
    const buf = (this.#partial.get(step.id) ?? '') + text;
    const parts = buf.split('\n');
    this.#partial.set(step.id, parts.pop() ?? '');
    const prefix = `[${step.stage ? `${step.stage} ` : ''}${step.index}/${step.total}]`;
    for (const p of parts) line(`${prefix} | ${stripControl(p)}`);
  }
}

/** stripControl removes terminal control sequences and carriage-return redraws from a log line (C1 controls too: U+009B is a CSI). */
export function stripControl(s: string): string {
  // eslint-disable-next-line no-control-regex
  const noAnsi = s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '');
  const lastCr = noAnsi.lastIndexOf('\r');
  // eslint-disable-next-line no-control-regex
  return (lastCr >= 0 ? noAnsi.slice(lastCr + 1) : noAnsi).replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '');
}
