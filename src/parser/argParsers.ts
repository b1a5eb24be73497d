import type { CstText, Pos } from './cst.ts';
import { goQuote, isBlank, isGoSpace } from './goText.ts';
import { stringItem, type NodeItem } from './node.ts';
import { runGrammar } from './runGrammar.ts';
import { parseError } from './errors.ts';
import type { EscapeChar } from './shell/ShellLex.ts';

/** ArgText is an instruction's argument text with what is needed to locate and lex it. */
export interface ArgText {
  text: string;
  /** Offset of text in the joined line. */
  base: number;
  where: (offset: number) => Pos;
  escape: EscapeChar;
  file: string;
  /** Upper-cased keyword, for messages. */
  keyword: string;
}

/** ParsedArgs is what an argument parser produces. */
export interface ParsedArgs {
  items: NodeItem[];
  json: boolean;
}

const NONE: ParsedArgs = { items: [], json: false };

function pos(p: Pos): Pos {
  return { line: p.line, col: p.col };
}

function at(a: ArgText, i: number): Pos {
  return a.where(a.base + i);
}

/** sub is the part of a from i on, positioned. */
export function sub(a: ArgText, i: number): ArgText {
  return { ...a, text: a.text.slice(i), base: a.base + i };
}

/** splitBlank splits on runs of [ \t\v\f\r]; quotes mean nothing (FROM, EXPOSE, non-JSON ADD/COPY/VOLUME). */
export function splitBlank(a: ArgText): ParsedArgs {
  const items: NodeItem[] = [];
  const s = a.text;
  let i = 0;
  while (i < s.length) {
    let j = i;
    while (j < s.length && !isBlank(s.charCodeAt(j))) j++;
    items.push(stringItem(s.slice(i, j), at(a, i)));
    while (j < s.length && isBlank(s.charCodeAt(j))) j++;
    i = j;
  }
  return { items, json: false };
}

/**
 * parseJson tries the exec form. undefined: not a JSON array (the caller uses
 * the shell form); a valid array with a non-string element is an error.
 */
export function parseJson(a: ArgText): ParsedArgs | undefined {
  if (a.text.charCodeAt(0) !== 0x5b /* [ */) return undefined;
  const elems = runGrammar('jsonArray', a.text, a.escape, (o) => at(a, o));
  if (elems === undefined) return undefined;
  const items: NodeItem[] = [];
  for (const e of elems) {
    if (e.kind !== 'string') {
      throw parseError('PARSE_JSON', 'when using JSON array syntax, arrays must be comprised of strings only', a.file, pos(e.at));
    }
    items.push(stringItem(e.value, pos(e.at)));
  }
  return { items, json: true };
}

/** maybeJsonList is ADD/COPY/VOLUME: JSON array, else blank-separated. */
export function maybeJsonList(a: ArgText): ParsedArgs {
  return parseJson(a) ?? splitBlank(a);
}

/** maybeJson is RUN/CMD/ENTRYPOINT/SHELL: JSON array, else the text as one item. */
export function maybeJson(a: ArgText): ParsedArgs {
  if (a.text === '') return NONE;
  return parseJson(a) ?? { items: [stringItem(a.text, at(a, 0))], json: false };
}

/** wholeString is MAINTAINER/STOPSIGNAL/USER/WORKDIR: the text as one item. */
export function wholeString(a: ArgText): ParsedArgs {
  return a.text === '' ? NONE : { items: [stringItem(a.text, at(a, 0))], json: false };
}

/** words splits like the reference's parseWords: quotes and escapes kept, never an empty word. */
function words(a: ArgText): CstText[] {
  const ws = runGrammar('words', a.text, a.escape, (o) => at(a, o)) ?? [];
  return ws.filter((w) => w.value !== '');
}

/** wordList is ARG: each word one item. */
export function wordList(a: ArgText): ParsedArgs {
  return { items: words(a).map((w) => stringItem(w.value, pos(w))), json: false };
}

/** nameValue is ENV/LABEL: (key, value, "=") per word, or the legacy (key, value, "") form. */
export function nameValue(a: ArgText): ParsedArgs {
  const ws = words(a);
  if (ws.length === 0) return NONE;
  if (!ws[0]!.value.includes('=')) {
    let i = 0;
    while (i < a.text.length && !isBlank(a.text.charCodeAt(i))) i++;
    let j = i;
    while (j < a.text.length && isBlank(a.text.charCodeAt(j))) j++;
    if (i === a.text.length) throw parseError('PARSE_SYNTAX', `${a.keyword} must have two arguments`, a.file, at(a, 0));
    return { items: [stringItem(a.text.slice(0, i), at(a, 0)), stringItem(a.text.slice(j), at(a, j)), stringItem('', at(a, j))], json: false };
  }
  const items: NodeItem[] = [];
  for (const w of ws) {
    const eq = w.value.indexOf('=');
    if (eq < 0) throw parseError('PARSE_SYNTAX', `Syntax error - can't find = in ${goQuote(w.value)}. Must be of the form: name=value`, a.file, w);
    const valuePos = at(a, w.offset + eq + 1);
    items.push(stringItem(w.value.slice(0, eq), pos(w)), stringItem(w.value.slice(eq + 1), valuePos), stringItem('=', valuePos));
  }
  return { items, json: false };
}

/** healthcheck is HEALTHCHECK: the type word (CMD, NONE, ...), then CMD-like arguments. */
export function healthcheck(a: ArgText): ParsedArgs {
  const s = a.text;
  let sep = 0;
  while (sep < s.length && !isGoSpace(s.charCodeAt(sep))) sep++;
  if (sep === 0) return NONE;
  let next = sep;
  while (next < s.length && isGoSpace(s.charCodeAt(next))) next++;
  const rest = maybeJson(sub(a, next));
  return { items: [stringItem(s.slice(0, sep), at(a, 0)), ...rest.items], json: rest.json };
}
