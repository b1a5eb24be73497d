import { goQuote, trimGo } from './goText.ts';
import type { Node, Tree } from './node.ts';

/**
 * dumpNode renders one instruction the way the reference's Node.Dump does:
 * lower-cased keyword, ` ["--flag" ...]` when there are flags, then each item
 * (` "string"` in Go quoting, or a nested ONBUILD instruction in parentheses),
 * trimmed of white space.
 */
export function dumpNode(node: Node): string {
  let s = node.keyword.toLowerCase();
  if (node.flags.length > 0) s += ` [${node.flags.map((f) => goQuote(f.text)).join(' ')}]`;
  for (const item of node.items) {
    s += item.kind === 'node' ? ` (${dumpNode(item.node)})` : ` ${goQuote(item.value)}`;
  }
  return trimGo(s);
}

/**
 * dumpTree renders a syntax tree in the exact text format of the reference's
 * `result` files (buildkit parser testfiles): one `(instruction ...)` line per
 * instruction, each ending in a newline.
 */
export function dumpTree(tree: Tree): string {
  let out = '';
  for (const n of tree.nodes) out += `(${dumpNode(n)})\n`;
  return out;
}
