import { leftSpaceLen, rightSpaceEnd } from './goText.ts';
import { runGrammar } from './runGrammar.ts';
import { stringItem, type Node } from './node.ts';
import type { Pos } from './cst.ts';
import type { PositionMap } from './positionMap.ts';
import type { EscapeChar } from './shell/ShellLex.ts';
import * as P from './argParsers.ts';
import { TsbuildError } from '../core/errors.ts';

/** LineContext is what building a node needs besides the text. */
export interface LineContext {
  file: string;
  escape: EscapeChar;
  map: PositionMap;
  startLine: number;
}

type ArgParser = (a: P.ArgText, ctx: LineContext) => P.ParsedArgs;

/** DISPATCH says how each keyword's arguments become items (FORMAT.md 1.4's table). */
const DISPATCH: Record<string, ArgParser> = {
  from: P.splitBlank,
  expose: P.splitBlank,
  add: P.maybeJsonList,
  copy: P.maybeJsonList,
  volume: P.maybeJsonList,
  run: P.maybeJson,
  cmd: P.maybeJson,
  entrypoint: P.maybeJson,
  shell: P.maybeJson,
  maintainer: P.wholeString,
  stopsignal: P.wholeString,
  user: P.wholeString,
  workdir: P.wholeString,
  arg: P.wordList,
  env: P.nameValue,
  label: P.nameValue,
  healthcheck: P.healthcheck,
  onbuild: (a, ctx) => (a.text === '' ? { items: [], json: false } : { items: [{ kind: 'node', node: buildNode(a.text, a.base, ctx) }], json: false }),
};

/** unknownKeyword: the reference keeps unknown instructions with one empty item; toInstructions rejects them. */
const unknownKeyword: ArgParser = (a) => ({ items: [stringItem('', a.where(a.base))], json: false });

/**
 * buildNode parses one instruction line (or, for ONBUILD, the rest of one)
 * found at offset base of the joined line. Heredocs and line ranges are
 * filled in by the caller.
 */
export function buildNode(line: string, base: number, ctx: LineContext): Node {
  const s = leftSpaceLen(line);
  const text = s === line.length ? '' : line.slice(s, rightSpaceEnd(line));
  const start = base + s;
  const where = (o: number): Pos => ctx.map.at(start + o);
  const node: Node = {
    keyword: '', pos: where(0), flags: [], items: [], json: false, args: '', argsPos: where(text.length),
    original: text, heredocs: [], startLine: ctx.startLine, endLine: ctx.startLine, endCol: 1,
  };
  if (text === '') {
    node.items = [stringItem('', node.pos)];
    return node;
  }
  const cst = runGrammar('instruction', text, ctx.escape, where);
  if (cst === undefined) throw new TsbuildError('INTERNAL', `grammar rejected instruction line ${JSON.stringify(text)}`);
  node.keyword = cst.keyword.value;
  node.flags = cst.flags.map((f) => ({ text: f.value, pos: { line: f.line, col: f.col } }));
  const argOffset = cst.args?.offset ?? text.length;
  node.args = cst.args?.value ?? '';
  node.argsPos = where(argOffset);
  const parse = DISPATCH[node.keyword.toLowerCase()] ?? unknownKeyword;
  const arg: P.ArgText = { text: node.args, base: start + argOffset, where: (o) => ctx.map.at(o), escape: ctx.escape, file: ctx.file, keyword: node.keyword.toUpperCase() };
  const parsed = parse(arg, ctx);
  node.items = parsed.items;
  node.json = parsed.json;
  return node;
}
