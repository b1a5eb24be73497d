import type { SourceRange } from './range.ts';

/** ErrorCode is the stable set of user-facing failure kinds. Add to it rather than reusing a vague one. */
export type ErrorCode =
  | 'PARSE_SYNTAX'
  | 'PARSE_DIRECTIVE'
  | 'PARSE_HEREDOC'
  | 'PARSE_JSON'
  | 'PARSE_FLAG'
  | 'PARSE_ENCODING'
  | 'UNKNOWN_INSTRUCTION'
  | 'EXPANSION'
  | 'BAD_DIGEST'
  | 'BAD_REFERENCE'
  | 'DIGEST_MISMATCH'
  | 'BLOB_UNKNOWN'
  | 'IMAGE_NOT_FOUND'
  | 'CONTAINER_NOT_FOUND'
  | 'NAME_IN_USE'
  | 'CONTAINER_RUNNING'
  | 'IMAGE_IN_USE'
  | 'STAGE_NOT_FOUND'
  | 'COPY_SOURCE_MISSING'
  | 'COPY_OUTSIDE_CONTEXT'
  | 'UNSAFE_PATH'
  | 'BAD_ARCHIVE'
  | 'BAD_CACHE'
  | 'RUN_FAILED'
  | 'RUNTIME'
  | 'MOUNT'
  | 'USER_UNKNOWN'
  | 'STORE_CORRUPT'
  /** Damage found in the middle of work was healed; the same work done again succeeds (a build retries once). */
  | 'STORE_HEALED'
  | 'LOCKED'
  | 'REGISTRY'
  | 'REGISTRY_UNAUTHORIZED'
  | 'USAGE'
  | 'NEEDS_ROOT'
  | 'NOT_ALLOWED'
  | 'IO'
  | 'INTERRUPTED'
  | 'INTERNAL';

/** ErrorOptions carries what a renderer needs beyond the message. */
export interface TsbuildErrorOptions {
  /** Where in a Buildfile the failure is anchored (rendered as FILE:LINE:COL). */
  range?: SourceRange;
  /** One short line telling the user what to try. */
  hint?: string;
  cause?: unknown;
  /** Process exit status the CLI should use (default 1). */
  exitCode?: number;
}

/** TsbuildError is every expected, user-facing failure: the CLI prints it as one line, never a stack. */
export class TsbuildError extends Error {
  readonly code: ErrorCode;
  readonly range: SourceRange | undefined;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, opts: TsbuildErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TsbuildError';
    this.code = code;
    this.range = opts.range;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? 1;
  }
}

/**
 * withRange attaches a Buildfile location to an error that has none (idempotent:
 * an error already located keeps its first location, as buildkit's WithLocation does).
 */
export function withRange(err: unknown, range: SourceRange): unknown {
  if (err instanceof TsbuildError && err.range === undefined) {
    const e = new TsbuildError(err.code, err.message, { range, cause: err.cause, exitCode: err.exitCode, ...(err.hint ? { hint: err.hint } : {}) });
    return e;
  }
  return err;
}

/** isErrno tells whether e is a Node system error with the given code (ENOENT, EEXIST, ...). */
export function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}
