import type { BuildEvent, EventSink } from '../events/types.ts';
import { escapeJson } from './escapeText.ts';

/** JsonRenderer writes each event as one JSON line (--progress=json), for tools; no raw control character (escapeJson). */
export class JsonRenderer implements EventSink {
  readonly #out: NodeJS.WritableStream;
  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }
  emit(e: BuildEvent): void {
    this.#out.write(escapeJson(JSON.stringify(e)) + '\n');
  }
}
