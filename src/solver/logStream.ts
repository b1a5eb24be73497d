import { StringDecoder } from 'node:string_decoder';
import { Writable } from 'node:stream';
import type { EventSink, StepRef } from '../events/types.ts';

/**
 * logStream is a Writable that turns a container's output into step.log events. Each
 * stream has its own decoder, so a UTF-8 character split across two chunks is held back
 * until it is whole rather than logged as two replacement characters.
 */
export function logStream(events: EventSink, step: StepRef, stream: 'stdout' | 'stderr'): Writable {
  const decoder = new StringDecoder('utf8');
  const emit = (text: string) => { if (text) events.emit({ type: 'step.log', step, stream, text, at: Date.now() }); };
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      emit(decoder.write(chunk));
      cb();
    },
    final(cb) {
      emit(decoder.end());
      cb();
    },
  });
}
