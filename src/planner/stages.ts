import { TsbuildError } from '../core/errors.ts';
import type { FromInstruction, Instruction, ParseResult } from '../parser/types.ts';
import type { Env, Expander } from './expand.ts';

/** BaseRef is what a stage starts from. */
export type BaseRef = { kind: 'scratch' } | { kind: 'stage'; index: number } | { kind: 'image'; ref: string };

/** Stage is one FROM and the instructions up to the next FROM. */
export interface Stage {
  index: number;
  /** Lower-cased `AS` name, if any. */
  name?: string;
  from: FromInstruction;
  base: BaseRef;
  platform?: string;
  instructions: Instruction[];
  /** Stages this one reads from (FROM, COPY --from, RUN --mount from=), by index. */
  deps: number[];
}

/** BuildPlan is the stage graph of a Buildfile for one target. */
export interface BuildPlan {
  stages: Stage[];
  /** Index of the stage whose image is the build's result. */
  target: number;
  /** Stages that must be built for the target, dependencies first. */
  needed: number[];
  /** Global ARGs (declared before the first FROM) with their values; undefined = declared without value. */
  globalArgs: Map<string, string | undefined>;
}

/** PlanOptions are the inputs of planBuild besides the parsed file. */
export interface PlanOptions {
  buildArgs: ReadonlyMap<string, string>;
  target?: string;
  expand: Expander;
  /** Automatic platform args (TARGETPLATFORM, BUILDARCH, …) visible in the global scope. */
  platformArgs: ReadonlyMap<string, string>;
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** planBuild splits a parsed Buildfile into stages, resolves their bases and picks what the target needs. */
export function planBuild(parsed: ParseResult, opts: PlanOptions): BuildPlan {
  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  let current: Stage | undefined;
  for (const ins of parsed.instructions) {
    if (ins.kind === 'FROM') {
      current = makeStage(ins, stages, globalScope(globalArgs, opts), opts.expand);
      stages.push(current);
    } else if (!current) {
      if (ins.kind !== 'ARG') {
        throw new TsbuildError('PARSE_SYNTAX', `${ins.keyword.toUpperCase()} before the first FROM: only ARG may come before FROM`, { range: ins.range });
      }
      for (const a of ins.args) {
        const given = opts.buildArgs.get(a.key);
        const dflt = a.value === undefined ? undefined : opts.expand.word(a.value, globalScope(globalArgs, opts));
        globalArgs.set(a.key, given ?? dflt);
      }
    } else {
      current.instructions.push(ins);
    }
  }
  if (stages.length === 0) throw new TsbuildError('PARSE_SYNTAX', 'the Buildfile has no FROM instruction', { hint: 'every build starts with FROM IMAGE (or FROM scratch)' });
  for (const s of stages) s.deps = stageDeps(s, stages);
  const target = pickTarget(stages, opts.target);
  return { stages, target, needed: neededStages(stages, target), globalArgs };
}

function globalScope(globalArgs: Map<string, string | undefined>, opts: PlanOptions): Env {
  const env = new Map(opts.platformArgs);
  for (const [k, v] of globalArgs) if (v !== undefined) env.set(k, v);
  return env;
}

function makeStage(ins: FromInstruction, prior: Stage[], env: Env, expand: Expander): Stage {
  const image = expand.word(ins.image, env);
  if (image === '') throw new TsbuildError('PARSE_SYNTAX', `FROM ${ins.image}: base name expands to an empty string`, { range: ins.range });
  const name = ins.stageName?.toLowerCase();
  if (name !== undefined) {
    if (!STAGE_NAME.test(name)) throw new TsbuildError('PARSE_SYNTAX', `invalid stage name "${ins.stageName}": must start with a letter and contain only letters, digits, '-', '_' and '.'`, { range: ins.range });
    if (prior.some((s) => s.name === name)) throw new TsbuildError('PARSE_SYNTAX', `duplicate stage name "${name}"`, { range: ins.range });
  }
  const stage: Stage = { index: prior.length, from: ins, base: resolveBase(image, prior), instructions: [], deps: [] };
  if (name !== undefined) stage.name = name;
  if (ins.platform !== undefined) stage.platform = expand.word(ins.platform, env);
  return stage;
}

function resolveBase(image: string, prior: Stage[]): BaseRef {
  if (image.toLowerCase() === 'scratch') return { kind: 'scratch' };
  const byName = prior.find((s) => s.name === image.toLowerCase());
  if (byName) return { kind: 'stage', index: byName.index };
  return { kind: 'image', ref: image };
}

/** findStage resolves a `--from` value: a stage name, a stage index, or undefined (an image). */
export function findStage(stages: readonly Stage[], ref: string, before: number): Stage | undefined {
  const lower = ref.toLowerCase();
  const named = stages.find((s) => s.name === lower && s.index < before);
  if (named) return named;
  if (/^\d+$/.test(ref)) {
    const idx = Number(ref);
    if (idx < before) return stages[idx];
  }
  return undefined;
}

function stageDeps(s: Stage, stages: Stage[]): number[] {
  const deps = new Set<number>();
  if (s.base.kind === 'stage') deps.add(s.base.index);
  for (const ins of s.instructions) {
    const refs: string[] = [];
    if ((ins.kind === 'COPY' || ins.kind === 'ADD') && ins.from) refs.push(ins.from);
    if (ins.kind === 'RUN') for (const m of ins.mounts) { const f = /(?:^|,)from=([^,]+)/.exec(m); if (f?.[1]) refs.push(f[1]); }
    for (const r of refs) { const d = findStage(stages, r, s.index); if (d) deps.add(d.index); }
  }
  return [...deps].sort((a, b) => a - b);
}

function pickTarget(stages: Stage[], target: string | undefined): number {
  if (target === undefined) return stages.length - 1;
  const s = stages.find((x) => x.name === target.toLowerCase());
  if (!s) throw new TsbuildError('STAGE_NOT_FOUND', `target stage "${target}" could not be found`, { hint: `stages: ${stages.map((x) => x.name ?? String(x.index)).join(', ')}` });
  return s.index;
}

function neededStages(stages: Stage[], target: number): number[] {
  const seen = new Set<number>();
  const visit = (i: number) => {
    if (seen.has(i)) return;
    seen.add(i);
    for (const d of stages[i]!.deps) visit(d);
  };
  visit(target);
  return [...seen].sort((a, b) => a - b);
}
