import { ShellLex } from './shell/ShellLex.ts';
import type { Heredoc } from './types.ts';
import type { Node } from './node.ts';
import { TsbuildError } from '../core/errors.ts';

/** HeredocMarker is a `<<NAME` found on an instruction line, before its body is read. */
export type HeredocMarker = Omit<Heredoc, 'content'> & { word: string };

const HEREDOC_KEYWORDS = new Set(['run', 'copy', 'add']);
// Go's RE2 \s is [\t\n\f\r ].
const MARKER = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const EMPTY_ENV = new Map<string, string>();

/** canContainHeredoc: RUN, COPY and ADD (also as an ONBUILD trigger), only in shell form. */
export function canContainHeredoc(node: Node): boolean {
  const kw = node.keyword.toLowerCase();
  if (kw === 'onbuild') {
    const inner = node.items[0];
    return inner?.kind === 'node' && canContainHeredoc(inner.node);
  }
  return HEREDOC_KEYWORDS.has(kw) && !node.json;
}

/**
 * parseHeredocWord reads one shell word as a heredoc marker (`<<EOF`,
 * `<<-"EOF"`, `3<<EOF`), or returns undefined when it is not one. The name is
 * unquoted; any quoting turns expansion of the body off.
 */
export function parseHeredocWord(word: string): HeredocMarker | undefined {
  const m = MARKER.exec(word);
  if (m === null || m[3] === '') return undefined;
  const rest = m[3]!;
  const words = lexDelimiter(rest, false);
  if (words.length !== 1) return undefined;
  const raw = lexDelimiter(rest, true);
  if (raw.length !== 1) throw new TsbuildError('PARSE_HEREDOC', `internal lexing of heredoc produced inconsistent results: ${rest}`);
  const quotes = (s: string) => s.split(/['"]/).length - 1;
  const marker: HeredocMarker = { word, name: words[0]!, expand: quotes(words[0]!) === quotes(raw[0]!), chomp: m[2] === '-' };
  if (m[1] !== '') marker.fd = Number(m[1]);
  return marker;
}

/** lexDelimiter splits a delimiter into shell words; a malformed one (unterminated quote) is a heredoc error. */
function lexDelimiter(rest: string, rawQuotes: boolean): string[] {
  try {
    return new ShellLex('\\', { skipUnsetEnv: true, rawQuotes }).processWords(rest, EMPTY_ENV).words;
  } catch (e) {
    if (e instanceof TsbuildError) throw new TsbuildError('PARSE_HEREDOC', `invalid heredoc delimiter: ${e.message}`, { cause: e });
    throw e;
  }
}

/** heredocMarkers finds the heredoc markers of a joined instruction line, in order. */
export function heredocMarkers(line: string): HeredocMarker[] {
  let words: string[];
  try {
    words = new ShellLex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).processWords(line, EMPTY_ENV).words;
  } catch {
    return []; // the reference ignores a line it cannot split here
  }
  const out: HeredocMarker[] = [];
  for (const w of words) {
    const h = parseHeredocWord(w);
    if (h !== undefined) out.push(h);
  }
  return out;
}

/** isTerminator tells whether a physical line (trailing CR/LF removed) ends a heredoc body. */
export function isTerminator(text: string, marker: HeredocMarker): boolean {
  if (!marker.chomp) return text === marker.name;
  let i = 0;
  while (i < text.length && text.charCodeAt(i) === 9) i++;
  return text.slice(i) === marker.name;
}
