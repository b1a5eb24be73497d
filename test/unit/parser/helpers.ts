import { expect } from 'vitest';
import { parseBuildfile, parseTree, dumpTree, type Instruction } from '../../../src/parser/index.ts';
import { TsbuildError } from '../../../src/core/errors.ts';

/** parse parses src as "Buildfile" and returns its instructions. */
export function parse(src: string): Instruction[] {
  return parseBuildfile(src, 'Buildfile').instructions;
}

/** one parses src and returns its only instruction, narrowed to kind K. */
export function one<K extends Instruction['kind']>(src: string, kind: K): Instruction & { kind: K } {
  const all = parse(src);
  expect(all).toHaveLength(1);
  expect(all[0]!.kind).toBe(kind);
  return all[0] as Instruction & { kind: K };
}

/** dump renders src in the reference's format, without the trailing newline. */
export function dump(src: string): string {
  return dumpTree(parseTree(src, 'Buildfile').tree).replace(/\n$/, '');
}

/** ErrorSummary is what tests check of a parse error. */
export interface ErrorSummary { code: string; at: string; message: string }

/** failure parses src (typed layer unless raw) and returns the error as `line:col` plus message; fails if it parses. */
export function failure(src: string, raw = false): ErrorSummary {
  try {
    if (raw) parseTree(src, 'Buildfile');
    else parseBuildfile(src, 'Buildfile');
  } catch (e) {
    if (!(e instanceof TsbuildError)) throw e;
    expect(e.range?.file).toBe('Buildfile');
    return { code: e.code, at: `${e.range!.startLine}:${e.range!.startCol}`, message: e.message };
  }
  throw new Error(`expected a parse error for ${JSON.stringify(src)}`);
}
