import type { ParseResult } from './types.ts';
import { parseTree } from './parseTree.ts';
import { toInstructions } from './toInstructions.ts';

/**
 * parseBuildfile parses Buildfile (Dockerfile) text into typed instructions.
 * filename is only used in ranges and messages; nothing is read from disk.
 * Every problem is thrown as a TsbuildError whose range gives the file, line
 * and column; warnings (e.g. empty continuation lines) are returned.
 */
export function parseBuildfile(text: string, filename: string): ParseResult {
  const { tree, directives, warnings } = parseTree(text, filename);
  return { instructions: toInstructions(tree), directives, warnings };
}
