import type { Instruction, OnbuildInstruction } from './types.ts';
import type { Node, Tree } from './node.ts';
import { Request } from './request.ts';
import { parseError } from './errors.ts';
import { suggest } from './suggest.ts';
import { buildCmd, buildEntrypoint, buildHealthcheck, buildRun, buildShell } from './buildCommands.ts';
import { buildCopy } from './buildCopy.ts';
import * as O from './buildOthers.ts';

type Builder = (r: Request) => Instruction;

/** BUILDERS maps each lower-cased keyword to its typed builder. */
const BUILDERS: Record<string, Builder> = {
  from: O.buildFrom,
  run: buildRun,
  cmd: buildCmd,
  label: O.buildLabel,
  maintainer: O.buildMaintainer,
  expose: O.buildExpose,
  env: O.buildEnv,
  add: buildCopy,
  copy: buildCopy,
  entrypoint: buildEntrypoint,
  volume: O.buildVolume,
  user: O.buildUser,
  workdir: O.buildWorkdir,
  arg: O.buildArg,
  onbuild: buildOnbuild,
  stopsignal: O.buildStopsignal,
  healthcheck: buildHealthcheck,
  shell: buildShell,
};

/** KEYWORDS is every instruction keyword, upper-case. */
export const KEYWORDS: readonly string[] = Object.keys(BUILDERS).map((k) => k.toUpperCase());

function buildOnbuild(r: Request): OnbuildInstruction {
  const flags = r.flags({}).raw;
  const inner = r.node.items[0];
  if (inner?.kind !== 'node') throw r.error('ONBUILD requires at least one argument', r.node.argsPos);
  const kw = inner.node.keyword.toUpperCase();
  if (kw === 'ONBUILD') throw r.error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed', inner.node.pos);
  if (kw === 'FROM' || kw === 'MAINTAINER') throw r.error(`${kw} isn't allowed as an ONBUILD trigger`, inner.node.pos);
  return { ...r.base(flags), kind: 'ONBUILD', expression: r.node.args, trigger: toInstruction(inner.node, r.file) };
}

/**
 * toInstruction validates one syntax-tree node and types it: keyword known,
 * flags allowed for it, argument counts and forms right. Errors are
 * TsbuildError with the Buildfile range of the offending part.
 */
export function toInstruction(node: Node, file: string): Instruction {
  const builder = BUILDERS[node.keyword.toLowerCase()];
  if (builder === undefined) {
    if (node.keyword === '') throw parseError('PARSE_SYNTAX', 'instruction expected after a line continuation', file, node.pos);
    const hint = suggest(node.keyword, KEYWORDS);
    throw parseError('UNKNOWN_INSTRUCTION', `unknown instruction: ${node.keyword}${hint ? ` (did you mean ${hint}?)` : ''}`, file, node.pos);
  }
  return builder(new Request(node, file));
}

/** toInstructions types every instruction of a tree, in order. */
export function toInstructions(tree: Tree): Instruction[] {
  return tree.nodes.map((n) => toInstruction(n, tree.file));
}
