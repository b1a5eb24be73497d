import nearley from 'nearley';
import type moo from 'moo';
import compiled from './generated/grammar.ts';
import { lexerFor, type LexerStart } from '../../grammar/lexer.ts';
import type { CstText, JsonCst, LineCst, Pos } from './cst.ts';
import type { EscapeChar } from './shell/ShellLex.ts';

/** StartRule names a start rule of grammar/buildfile.ne and the result it builds. */
interface StartRules {
  instruction: LineCst;
  jsonArray: JsonCst[];
  words: CstText[];
}

const LEXER_START: Record<keyof StartRules, LexerStart> = { instruction: 'line', jsonArray: 'json', words: 'words' };

function grammarFor(start: keyof StartRules): nearley.Grammar {
  const g = nearley.Grammar.fromCompiled(compiled as unknown as nearley.CompiledRules);
  g.start = start;
  return g;
}

const GRAMMARS: Record<keyof StartRules, nearley.Grammar> = {
  instruction: grammarFor('instruction'),
  jsonArray: grammarFor('jsonArray'),
  words: grammarFor('words'),
};

/** MappedLexer feeds nearley from moo, giving each token its physical line and column. */
class MappedLexer implements nearley.Lexer {
  constructor(private readonly inner: moo.Lexer, private readonly start: LexerStart, private readonly where: (offset: number) => Pos) {}

  reset(chunk: string): void {
    this.inner.reset(chunk, { line: 1, col: 1, state: this.start });
  }

  next(): moo.Token | undefined {
    const t = this.inner.next();
    if (t !== undefined) {
      const p = this.where(t.offset);
      t.line = p.line;
      t.col = p.col;
    }
    return t;
  }

  save(): moo.LexerState {
    return this.inner.save();
  }

  formatError(token: moo.Token, message: string): string {
    return this.inner.formatError(token, message);
  }

  has(name: string): boolean {
    return this.inner.has(name);
  }
}

/**
 * runGrammar parses text with one start rule. It returns undefined when the
 * text does not match (for jsonArray that means "not JSON: use the shell form").
 * where maps an offset in text to its Buildfile position.
 */
export function runGrammar<K extends keyof StartRules>(start: K, text: string, escape: EscapeChar, where: (offset: number) => Pos): StartRules[K] | undefined {
  const lexer = new MappedLexer(lexerFor(escape), LEXER_START[start], where);
  const parser = new nearley.Parser(GRAMMARS[start], { lexer });
  try {
    parser.feed(text);
  } catch {
    return undefined;
  }
  return parser.results[0] as StartRules[K] | undefined;
}
