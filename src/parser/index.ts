export * from './types.ts';
export type { Node, NodeItem, NodeFlag, Tree } from './node.ts';
export type { Pos } from './cst.ts';
export { parseTree, type TreeResult } from './parseTree.ts';
export { dumpTree, dumpNode } from './dump.ts';
export { goQuote } from './goText.ts';
export * from './shell/index.ts';
