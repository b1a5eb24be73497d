import { TsbuildError } from '../../core/errors.ts';
import { goQuote } from '../goText.ts';
import type { ShellEnv } from './env.ts';
import { ExpansionFailure, ShellWord } from './shellWord.ts';

/** EscapeChar is the Buildfile escape character (`# escape=` directive). */
export type EscapeChar = '\\' | '`';

/** ShellLexOptions switch the lexer away from its normal settings (all false by default). */
export interface ShellLexOptions {
  /** Keep quote characters in the output (used to detect heredoc delimiters). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written instead of expanding them to "". */
  skipUnsetEnv?: boolean;
}

/** ProcessResult is the outcome of expanding one input. */
export interface ProcessResult {
  /** The whole input expanded, quotes removed, escapes processed, white space kept. */
  result: string;
  /** The same text split into shell words (an unquoted expanded value splits too). */
  words: string[];
  /** Names that were looked up and set (for "unused build-arg" reporting). */
  matched: Set<string>;
  /** Names that were looked up and not set. */
  unmatched: Set<string>;
}

/**
 * ShellLex expands variables and splits words as the Dockerfile reference
 * defines it (a subset of POSIX sh: `$VAR`, `${VAR}`, `${VAR:-x}`, `${VAR-x}`,
 * `${VAR:+x}`, `${VAR+x}`, `${VAR:?msg}`, `${VAR?msg}`, `#`, `##`, `%`, `%%`,
 * `/`, `//`, single and double quotes, the escape character). It never runs
 * commands and never reads the process environment: only the env it is given.
 * Errors are TsbuildError('EXPANSION') without a range; callers attach the
 * instruction's range with withRange.
 */
export class ShellLex {
  readonly escape: EscapeChar;
  private readonly opts: Required<ShellLexOptions>;

  constructor(escape: EscapeChar = '\\', opts: ShellLexOptions = {}) {
    this.escape = escape;
    this.opts = { rawQuotes: opts.rawQuotes ?? false, rawEscapes: opts.rawEscapes ?? false, skipUnsetEnv: opts.skipUnsetEnv ?? false };
  }

  /** processWord expands input as one word: no word splitting. */
  processWord(input: string, env: ShellEnv): ProcessResult {
    return this.process(input, env);
  }

  /** processWords expands input and splits it into words (result is also filled in). */
  processWords(input: string, env: ShellEnv): ProcessResult {
    return this.process(input, env);
  }

  private process(input: string, env: ShellEnv): ProcessResult {
    const sw = new ShellWord(input, env, { escape: this.escape, ...this.opts });
    try {
      const { result, words } = sw.run();
      return { result, words, matched: sw.matched, unmatched: sw.unmatched };
    } catch (e) {
      if (e instanceof ExpansionFailure) {
        throw new TsbuildError('EXPANSION', `failed to process ${goQuote(input)}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }
}

/** processWord expands one word with the normal settings (quotes removed, unset variables empty). */
export function processWord(input: string, env: ShellEnv, escape: EscapeChar = '\\'): ProcessResult {
  return new ShellLex(escape).processWord(input, env);
}

/** processWords expands and word-splits input with the normal settings. */
export function processWords(input: string, env: ShellEnv, escape: EscapeChar = '\\'): ProcessResult {
  return new ShellLex(escape).processWords(input, env);
}
