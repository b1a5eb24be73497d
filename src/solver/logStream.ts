import { Writable } from 'node:stream';
import type { EventSink, StepRef } from '../events/types.ts';

/** logStream is a Writable that turns a container's output into step.log events. */
export function logStream(events: EventSink, step: StepRef, stream: 'stdout' | 'stderr'): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      events.emit({ type: 'step.log', step, stream, text: chunk.toString('utf8'), at: Date.now() });
      cb();
    },
  });
}
