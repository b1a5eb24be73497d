import type { BuildEvent, EventSink } from '../events/types.ts';
import { escapeJson } from './escapeText.ts';
import { StepOutput } from './stepOutput.ts';

/** PROGRESS_VERSION is the version of the event schema (docs/progress.schema.json), sent in build.start. */
export const PROGRESS_VERSION = 1;

/**
 * JsonRenderer writes each event as one JSON line (--progress=json), for tools; no raw control
 * character (escapeJson). A step's output goes out as one step.log event per line, as a terminal
 * would show it (StepOutput: `\r` redraws applied, escape sequences dropped, no line ending), its
 * last unfinished line when the step ends. build.start carries the schema's version. The events
 * are a stable interface: docs/PROGRESS.md and docs/progress.schema.json.
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
      case 'build.start':
        this.#write({ type: e.type, version: PROGRESS_VERSION, total: e.total, at: e.at });
        return;
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

  #write(e: BuildEvent | { type: 'build.start'; version: number; total: number; at: number }): void {
    this.#out.write(escapeJson(JSON.stringify(e)) + '\n');
  }
}
