import type { EventSink } from '../events/types.ts';
import { JsonRenderer } from './jsonRenderer.ts';
import { PlainRenderer } from './plainRenderer.ts';

/** ProgressMode is --progress: auto picks tty on a terminal, plain otherwise; rawjson is json's other name. */
export type ProgressMode = 'auto' | 'plain' | 'tty' | 'json' | 'rawjson' | 'quiet';

/** PROGRESS_MODES lists the values --progress takes. */
export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'plain', 'tty', 'json', 'rawjson', 'quiet'];

/** Renderer is an EventSink that can be closed when the build ends early. */
export type Renderer = EventSink & { close?(): void };

/**
 * Terminal is what the CLI found out about the progress stream: `redraw` when it is a terminal
 * whose lines can be redrawn (a TTY with a size, TERM not `dumb`) and auto should pick the
 * spinner (not in CI), `color` when it gets colours (ui/colors.ts useColor).
 */
export interface Terminal {
  redraw: boolean;
  color: boolean;
}

/**
 * createRenderer builds the progress output for a mode; ora is loaded only for a terminal. Where
 * lines cannot be redrawn, tty falls back to plain lines, as auto does.
 */
export async function createRenderer(mode: ProgressMode, out: NodeJS.WriteStream, term: Terminal): Promise<Renderer> {
  const m = mode === 'auto' || mode === 'tty' ? (term.redraw ? 'tty' : 'plain') : mode;
  switch (m) {
    case 'plain': return new PlainRenderer(out, { color: term.color });
    case 'json':
    case 'rawjson': return new JsonRenderer(out);
    case 'quiet': return { emit() {} };
    case 'tty': {
      const [{ default: ora }, { TtyRenderer }] = await Promise.all([import('ora'), import('./ttyRenderer.ts')]);
      const spinner = ora({ stream: out, discardStdin: false, isEnabled: true, color: term.color ? 'cyan' : false });
      return new TtyRenderer(spinner, { columns: () => out.columns || 80, color: term.color });
    }
  }
}
