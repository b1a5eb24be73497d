import type { Pos } from './cst.ts';
import type { Heredoc } from './types.ts';

/** NodeItem is one argument item: a string with where it starts, or (ONBUILD) a nested instruction. */
export type NodeItem = { kind: 'string'; value: string; pos: Pos } | { kind: 'node'; node: Node };

/** NodeFlag is one `--name[=value]` word, quotes and escapes removed. */
export interface NodeFlag {
  text: string;
  pos: Pos;
}

/**
 * Node is one instruction of the syntax tree, the equivalent of the
 * reference parser's AST node: no validation beyond what the reference
 * parser itself rejects. toInstructions turns nodes into typed Instructions.
 */
export interface Node {
  /** The keyword as written (`RUN`, `from`). */
  keyword: string;
  /** Where the keyword starts. */
  pos: Pos;
  flags: NodeFlag[];
  items: NodeItem[];
  /** The arguments were a JSON array (exec form). */
  json: boolean;
  /** The argument text after the flags, trimmed, as written. */
  args: string;
  /** Where the argument text starts (the keyword's end when there is none). */
  argsPos: Pos;
  /** The whole logical line (continuations joined, trimmed). */
  original: string;
  /** Heredoc bodies that followed this instruction (for ONBUILD, those of its trigger). */
  heredocs: Heredoc[];
  startLine: number;
  /** Last physical line consumed (last continuation line or heredoc terminator). */
  endLine: number;
  /** Column of the last character on endLine (at least 1). */
  endCol: number;
}

/** Tree is the syntax tree of a Buildfile. */
export interface Tree {
  file: string;
  nodes: Node[];
  /** First line of the first instruction and last line of the last one. */
  startLine: number;
  endLine: number;
}

/** stringItem makes a string NodeItem. */
export function stringItem(value: string, pos: Pos): NodeItem {
  return { kind: 'string', value, pos };
}
