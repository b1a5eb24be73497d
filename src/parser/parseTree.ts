import { LineCursor, splitLines, type PhysicalLine } from './physicalLines.ts';
import { DirectiveReader } from './directives.ts';
import { PositionMap } from './positionMap.ts';
import { buildNode } from './buildNode.ts';
import { canContainHeredoc, heredocMarkers, isTerminator } from './heredoc.ts';
import { leftSpaceLen } from './goText.ts';
import { parseError, rangeAt } from './errors.ts';
import { withRange } from '../core/errors.ts';
import type { Node, Tree } from './node.ts';
import type { Directives, Heredoc, ParseWarning } from './types.ts';
import type { EscapeChar } from './shell/ShellLex.ts';

/** TreeResult is the syntax tree plus what the line pre-pass found. */
export interface TreeResult {
  tree: Tree;
  directives: Directives;
  warnings: ParseWarning[];
}

/** Logical is one instruction's joined line before it is parsed. */
interface Logical {
  text: string;
  map: PositionMap;
  startLine: number;
  emptyContinuation: boolean;
}

/** continuation applies the reference's rule: returns the line without the escape, or undefined if it does not continue. */
export function continuation(line: string, escape: EscapeChar): string | undefined {
  let j = line.length;
  while (j > 0 && (line.charCodeAt(j - 1) === 32 || line.charCodeAt(j - 1) === 9)) j--;
  if (j === 0 || line[j - 1] !== escape) return undefined;
  if (j === 1) return '';
  return line[j - 2] === escape ? undefined : line.slice(0, j - 1);
}

function isComment(text: string): boolean {
  return text.charCodeAt(leftSpaceLen(text)) === 0x23 /* # */;
}

/** readContinuation appends the continuation lines of an instruction to lg. */
function readContinuation(cursor: LineCursor, lg: Logical, escape: EscapeChar): void {
  while (cursor.hasNext()) {
    const l = cursor.next();
    if (isComment(l.text)) continue;
    if (leftSpaceLen(l.text) === l.text.length) { lg.emptyContinuation = true; continue; }
    const cont = continuation(l.text, escape);
    lg.map.add(lg.text.length, l.no, 1);
    lg.text += cont ?? l.text;
    if (cont === undefined) return;
  }
}

/** readBodies reads each heredoc's body from the lines after the instruction. */
function readBodies(node: Node, cursor: LineCursor, file: string): Heredoc[] {
  const out: Heredoc[] = [];
  let markers;
  try {
    markers = heredocMarkers(node.original);
  } catch (e) {
    throw withRange(e, rangeAt(file, node.pos));
  }
  for (const marker of markers) {
    let content = '';
    let done = false;
    while (cursor.hasNext()) {
      const l = cursor.next();
      if (isTerminator(l.text, marker)) { done = true; break; }
      content += l.raw;
    }
    if (!done) {
      throw parseError('PARSE_HEREDOC', `unterminated heredoc: no line "${marker.name}" before the end of the file`, file, { line: node.startLine, col: node.pos.col }, { line: cursor.last()?.no ?? node.startLine, col: 1 });
    }
    const { word: _word, ...h } = marker;
    out.push({ ...h, content });
  }
  return out;
}

function finishNode(node: Node, last: PhysicalLine | undefined): void {
  node.endLine = last?.no ?? node.startLine;
  node.endCol = Math.max(1, last?.text.length ?? 1);
  const inner = node.items[0];
  if (inner?.kind === 'node') { inner.node.endLine = node.endLine; inner.node.endCol = node.endCol; inner.node.heredocs = node.heredocs; }
}

/**
 * parseTree is the reference parser: physical lines → directives →
 * instructions (continuations, comments, heredoc bodies) → syntax tree.
 * It throws TsbuildError with a range for everything the reference rejects,
 * including a file with no instructions.
 */
export function parseTree(src: string, file: string): TreeResult {
  const cursor = new LineCursor(splitLines(src, file));
  const dirs = new DirectiveReader(file);
  const warnings: ParseWarning[] = [];
  const nodes: Node[] = [];
  while (cursor.hasNext()) {
    const l = cursor.next();
    const lead = leftSpaceLen(l.text);
    const text = lead === 0 ? l.text : l.text.slice(lead);
    if (dirs.offer(text, l.no, lead + 1)) continue;
    if (text.charCodeAt(0) === 0x23) {
      const w = dirs.misplaced(text, l.no, lead + 1);
      if (w) warnings.push(w);
      continue;
    }
    const escape = dirs.directives.escape;
    const cont = continuation(text, escape);
    if (cont === undefined && text === '') continue;
    const lg: Logical = { text: cont ?? text, map: new PositionMap(), startLine: l.no, emptyContinuation: false };
    lg.map.add(0, l.no, lead + 1);
    if (cont !== undefined) readContinuation(cursor, lg, escape);
    const node = buildNode(lg.text, 0, { file, escape, map: lg.map, startLine: l.no });
    if (lg.emptyContinuation) warnings.push({ message: `Empty continuation line found in: ${lg.text}`, range: rangeAt(file, node.pos) });
    if (canContainHeredoc(node) && lg.text.includes('<<')) node.heredocs = readBodies(node, cursor, file);
    finishNode(node, cursor.last());
    nodes.push(node);
  }
  if (nodes.length === 0) throw parseError('PARSE_SYNTAX', 'file with no instructions', file, { line: 1, col: 1 });
  return { tree: { file, nodes, startLine: nodes[0]!.startLine, endLine: nodes.at(-1)!.endLine }, directives: dirs.directives, warnings };
}
