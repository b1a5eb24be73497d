import { TsbuildError } from '../core/errors.ts';
import type { ImageConfig } from '../oci/types.ts';
import { parseBuildfile } from '../parser/index.ts';
import type { Instruction } from '../parser/types.ts';
import { applyMeta, type MetaInstruction } from '../planner/meta.ts';
import type { StageState } from '../planner/state.ts';
import { shellExpander } from '../solver/expander.ts';
import { sha256Of } from '../core/digest.ts';

/** CHANGE_KINDS are the instructions `commit --change` accepts (Docker's list). */
export const CHANGE_KINDS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'] as const;

type ChangeInstruction = Extract<Instruction, { kind: (typeof CHANGE_KINDS)[number] }>;

/**
 * applyChanges applies `--change` instructions (Buildfile syntax: `CMD ["x"]`,
 * `ENV A=1`, …) to config in order, with the same rules a build uses (variables
 * expand against the config's ENV; an ENTRYPOINT drops a CMD not set by an
 * earlier change). Anything but Docker's commit instructions is a USAGE error.
 */
export function applyChanges(config: ImageConfig, changes: readonly string[]): ImageConfig {
  const state: StageState = { config: structuredClone(config), layers: [], key: sha256Of(''), args: new Map(), lastCreated: '' };
  const ctx = { expand: shellExpander('\\'), buildArgs: new Map<string, string>(), globalArgs: new Map<string, string | undefined>(), usedArgs: new Set<string>() };
  for (const text of changes) applyMeta(state, parseChange(text), ctx);
  return state.config;
}

function parseChange(text: string): MetaInstruction {
  const parsed = parseBuildfile(text, '--change');
  const [ins, ...rest] = parsed.instructions;
  if (!ins || rest.length > 0) throw new TsbuildError('USAGE', `--change "${text}": want exactly one instruction`);
  if (!isChange(ins)) {
    throw new TsbuildError('USAGE', `${ins.kind} is not a valid change command`, { hint: `--change takes ${CHANGE_KINDS.join(', ')}` });
  }
  return ins;
}

function isChange(i: Instruction): i is ChangeInstruction {
  return (CHANGE_KINDS as readonly string[]).includes(i.kind);
}
