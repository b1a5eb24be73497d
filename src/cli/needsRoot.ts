import { TsbuildError } from '../core/errors.ts';
import type { CliContext } from './context.ts';

/** needsRoot is the one line a command that cannot work without root gives (until rootless builds exist). */
export function needsRoot(command: string, cause?: unknown): TsbuildError {
  return new TsbuildError('NEEDS_ROOT', `${command} needs root: tsbuild mounts file systems and sets file owners, and cannot without root yet; run it as root (e.g. sudo tsbuild ${command} …)`, cause === undefined ? {} : { cause });
}

/**
 * requireRoot stops a command that mounts or sets owners (build, import, run, start, commit)
 * when not run as root, after its arguments were read (so --help and usage errors still come
 * first) and before it does anything.
 */
export function requireRoot(ctx: CliContext, command: string): void {
  if (ctx.uid !== undefined && ctx.uid !== 0) throw needsRoot(ctx.command ?? command);
}

/**
 * asNeedsRoot turns a permission error (EPERM, in err or its causes) of a command run without root
 * into needsRoot, for what requireRoot does not cover: never a raw `EPERM … lchown` for a user
 * who is not root. As root, and for every other error, err is returned as it is.
 */
export function asNeedsRoot(err: unknown, ctx: CliContext): unknown {
  if (ctx.uid === undefined || ctx.uid === 0) return err;
  for (let e = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === 'EPERM') return needsRoot(ctx.command ?? 'this', err);
  }
  return err;
}
