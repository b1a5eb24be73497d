import { ShellLex, type EscapeChar } from '../parser/shell/index.ts';
import type { Env, Expander } from '../planner/expand.ts';

/** shellExpander adapts the parser's shell lexer to the planner's Expander, with the file's escape character. */
export function shellExpander(escape: EscapeChar): Expander {
  const lex = new ShellLex(escape);
  return {
    word: (text: string, env: Env) => lex.processWord(text, env).result,
    words: (text: string, env: Env) => lex.processWords(text, env).words,
  };
}
