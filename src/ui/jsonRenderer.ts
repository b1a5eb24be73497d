import type { BuildEvent, EventSink } from '../events/types.ts';
import { escapeJson } from './escapeText.ts';
import { StepOutput } from './stepOutput.ts';

/**
 * JsonRenderer writes each event as one JSON line (--progress=json), for tools; no raw control
 * character (escapeJson). A step's output goes out as one step.log event per line, as a terminal
 * would show it (StepOutput: `\r` redraws applied, escape sequences dropped, no line ending), its
 * last unfinished line when the step ends; docs/PROGRESS.md is the schema.
 */
export class JsonRenderer implements EventSink {
  readonly #out: NodeJS.WritableStream;
  readonly #output = new Map<string, StepOutput>();

  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  emit(e: BuildEvent): void {
    switch (e.type) {
      case 'step.log': {
        let o = this.#output.get(e.step.id);
        if (!o) this.#output.set(e.step.id, (o = new StepOutput()));
        for (const text of o.write(e.stream, e.text)) this.#write({ ...e, text });
        return;
      }
      case 'step.done':
      case 'step.failed': {
        const o = this.#output.get(e.step.id);
        this.#output.delete(e.step.id);
        for (const { stream, text } of o?.end() ?? []) this.#write({ type: 'step.log', step: e.step, stream, text, at: e.at });
        break;
      }
    }
    this.#write(e);
  }

  #write(e: BuildEvent): void {
    this.#out.write(escapeJson(JSON.stringify(e)) + '\n');
  }
}
