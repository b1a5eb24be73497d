import { TsbuildError } from '../core/errors.ts';
import { formatLocation } from '../core/range.ts';

/**
 * renderError turns any thrown value into what the user sees: one line
 * `[FILE:LINE:COL: ]message` (+ an indented hint line), never a stack trace
 * unless debug is set. Unexpected errors say so, since they are our bugs.
 */
export function renderError(err: unknown, opts: { debug?: boolean } = {}): string {
  if (err instanceof TsbuildError) {
    const loc = err.range ? `${formatLocation(err.range)}: ` : '';
    let out = `${loc}${err.message}`;
    if (err.hint) out += `\n  hint: ${err.hint}`;
    if (opts.debug && err.cause instanceof Error && err.cause.stack) out += `\n${err.cause.stack}`;
    return `error: ${out}`;
  }
  const e = err as { code?: string; path?: string; message?: string; stack?: string };
  if (typeof e?.code === 'string' && typeof e.path === 'string') {
    return `error: ${e.path}: ${e.message ?? e.code}`;
  }
  const msg = err instanceof Error ? err.message : String(err);
  return `error: internal: ${msg}${opts.debug && err instanceof Error ? `\n${err.stack}` : ''}\n  hint: this is a bug in tsbuild; run with TSBUILD_DEBUG=1 for details`;
}
