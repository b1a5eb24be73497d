/**
 * The moo lexers for one Buildfile instruction line (continuations already
 * joined by the line pre-pass in src/parser/physicalLines.ts). There is one
 * lexer per escape character, because the escape character (`\` or `` ` ``,
 * set by the `# escape=` directive) is part of the token definitions.
 *
 * States (a grammar start rule picks the start state):
 * - `line`/`gap`/`flags`/`flag`/`afterEnd`: keyword, then `--flag` words
 *   (quotes and escapes inside them), the `--` terminator, then the argument text;
 * - `json`: strict JSON tokens, for the exec form (`["a", "b"]`);
 * - `words`: the ENV/LABEL/ARG word splitter, which keeps quotes and escapes.
 */
import moo from 'moo';

/** Go's unicode.IsSpace set (not JavaScript's \s). */
const WS = '\\t\\n\\v\\f\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const BLANK = '\\t\\v\\f\\r ';

function re(source: string): RegExp {
  return new RegExp(source, 'u');
}

/**
 * unquoteFlagPart decodes a quoted part of a flag word: the quotes go, and the
 * escape character makes the next character literal (in single quotes too).
 */
function unquoteFlagPart(text: string, esc: string): string {
  const quote = text[0];
  let out = '';
  for (let i = 1; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === esc) { out += text[++i] ?? ''; continue; }
    if (ch === quote) break;
    out += ch;
  }
  return out;
}

function rules(escape: "\\" | "`"): Record<string, moo.Rules> {
  const E = escape === '\\' ? '\\\\' : '`';
  const ws = { match: re(`[${WS}]+`), lineBreaks: true };
  const rest = { match: re('[^]+'), lineBreaks: true };
  return {
    line: {
      keyword: { match: re(`[^${BLANK}]+`), lineBreaks: true, next: 'gap' },
      lexError: moo.error,
    },
    gap: {
      blank: { match: re(`[${BLANK}]+`), next: 'flags' },
      lexError: moo.error,
    },
    flags: {
      ws,
      flagStart: { match: re(`--(?=[^${WS}])`), next: 'flag' },
      endFlags: { match: re('--'), next: 'afterEnd' },
      args: rest,
    },
    flag: {
      ws: { ...ws, next: 'flags' },
      fchars: { match: re(`[^${WS}'"${E}]+`) },
      fesc: { match: re(`${E}[^]`), lineBreaks: true, value: (t: string) => t.slice(1) },
      fescEnd: { match: re(`${E}(?![^])`), value: () => '' },
      fquote: { match: re(`'(?:${E}[^]|[^'${E}])*'?|"(?:${E}[^]|[^"${E}])*"?`), lineBreaks: true, value: (t: string) => unquoteFlagPart(t, escape) },
    },
    afterEnd: { ws, args: rest },
    json: {
      jws: { match: re('[ \\t\\n\\r]+'), lineBreaks: true },
      lbrack: '[',
      rbrack: ']',
      lbrace: '{',
      rbrace: '}',
      comma: ',',
      colon: ':',
      jstring: { match: re('"(?:[^"\\\\\\u0000-\\u001F]|\\\\["\\\\/bfnrt]|\\\\u[0-9a-fA-F]{4})*"'), value: (t: string) => JSON.parse(t) as string },
      jnumber: { match: re('-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?') },
      jliteral: { match: re('true|false|null') },
      jerror: moo.error,
    },
    words: {
      ws,
      wchars: { match: re(`[^${WS}'"${E}]+`) },
      wesc: { match: re(`${E}[^]`), lineBreaks: true },
      wescEnd: { match: re(`${E}(?![^])`), value: () => '' },
      wsquote: { match: re("'[^']*'?"), lineBreaks: true },
      wdquote: { match: re(`"(?:${E}[^]|[^"${E}])*"?`), lineBreaks: true },
    },
  };
}

/** LexerStart names the lexer state a grammar start rule needs. */
export type LexerStart = 'line' | 'json' | 'words';

const cache = new Map<string, moo.Lexer>();

/** lexerFor returns the (shared, stateless between resets) moo lexer for an escape character. */
export function lexerFor(escape: '\\' | '`'): moo.Lexer {
  let lx = cache.get(escape);
  if (lx === undefined) {
    lx = moo.states(rules(escape), 'line');
    cache.set(escape, lx);
  }
  return lx;
}

/** lexer is the default-escape lexer the compiled grammar names (`@lexer lexer`). */
export const lexer = lexerFor('\\');
