import { TsbuildError } from '../core/errors.ts';
import { formatLocation } from '../core/range.ts';
import { escapeText } from './escapeText.ts';
import { palette } from './colors.ts';

/**
 * renderError turns any thrown value into what the user sees: one line
 * `[FILE:LINE:COL: ]message` (+ an indented hint line), never a stack trace
 * unless debug is set. Unexpected errors say so, since they are our bugs.
 * Messages quote user input (Buildfile text, arguments, context paths) as it
 * was given; it is escaped here (escapeText), so a control character in it can
 * neither split the line nor reach the terminal. With colour, `error:` is red.
 */
export function renderError(err: unknown, opts: { debug?: boolean; color?: boolean } = {}): string {
  const label = palette(opts.color ?? false).bad('error:');
  if (err instanceof TsbuildError) {
    const loc = err.range ? `${formatLocation(err.range)}: ` : '';
    let out = escapeText(`${loc}${err.message}`);
    if (err.hint) out += `\n  hint: ${escapeText(err.hint)}`;
    if (opts.debug && err.cause instanceof Error && err.cause.stack) out += `\n${escapeLines(err.cause.stack)}`;
    return `${label} ${out}`;
  }
  const e = err as { code?: string; path?: string; message?: string; stack?: string };
  if (typeof e?.code === 'string' && typeof e.path === 'string') {
    return `${label} ${escapeText(`${e.path}: ${e.message ?? e.code}`)}`;
  }
  const msg = err instanceof Error ? err.message : String(err);
  return `${label} internal: ${escapeText(msg)}${opts.debug && err instanceof Error && err.stack ? `\n${escapeLines(err.stack)}` : ''}\n  hint: this is a bug in tsbuild; run with TSBUILD_DEBUG=1 for details`;
}

/** escapeLines escapes each line of a multi-line text (a stack trace), keeping its line breaks. */
function escapeLines(s: string): string {
  return s.split('\n').map(escapeText).join('\n');
}
