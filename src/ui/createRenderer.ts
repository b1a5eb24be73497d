import type { EventSink } from '../events/types.ts';
import { JsonRenderer } from './jsonRenderer.ts';
import { PlainRenderer } from './plainRenderer.ts';

/** ProgressMode is --progress: auto picks tty on a terminal, plain otherwise. */
export type ProgressMode = 'auto' | 'plain' | 'tty' | 'json' | 'quiet';

/** Renderer is an EventSink that can be closed when the build ends early. */
export type Renderer = EventSink & { close?(): void };

/** createRenderer builds the progress output for a mode; ora is loaded only for a terminal. */
export async function createRenderer(mode: ProgressMode, out: NodeJS.WriteStream, isTTY: boolean): Promise<Renderer> {
  const m = mode === 'auto' ? (isTTY ? 'tty' : 'plain') : mode;
  switch (m) {
    case 'plain': return new PlainRenderer(out);
    case 'json': return new JsonRenderer(out);
    case 'quiet': return { emit() {} };
    case 'tty': {
      const [{ default: ora }, { TtyRenderer }] = await Promise.all([import('ora'), import('./ttyRenderer.ts')]);
      return new TtyRenderer(ora({ stream: out, discardStdin: false }));
    }
  }
}
