import type { BuildEvent, EventSink } from '../events/types.ts';

/** JsonRenderer writes each event as one JSON line (--progress=json), for tools. */
export class JsonRenderer implements EventSink {
  readonly #out: NodeJS.WritableStream;
  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }
  emit(e: BuildEvent): void {
    this.#out.write(JSON.stringify(e) + '\n');
  }
}
