import pLimit from 'p-limit';
import { TsbuildError, withRange } from '../core/errors.ts';
import type { StepRef } from '../events/types.ts';
import type { Instruction, ParseResult } from '../parser/types.ts';
import { applyMeta, type MetaContext } from '../planner/meta.ts';
import { planBuild, type BuildPlan, type Stage } from '../planner/stages.ts';
import { addHistory, type StageState } from '../planner/state.ts';
import { platformArgs } from './platform.ts';
import { baseState } from './fromStep.ts';
import { runStep } from './runStep.ts';
import { checkEntitlements } from './entitlements.ts';
import { copyStep } from './copyStep.ts';
import { workdirStep } from './workdirStep.ts';
import type { BuildOptions, BuildResult, FileSource, SolverDeps } from './types.ts';
import type { CacheRecord } from '../cache/types.ts';
import { ensureBlobs } from './layers.ts';
import { BackgroundWork } from './backgroundWork.ts';
import type { ResolvedUser } from '../executor/resolveUser.ts';

/** StepContext is what a layer-producing step needs from the build around it. */
export interface StepContext {
  deps: SolverDeps;
  opts: BuildOptions;
  plan: BuildPlan;
  step: StepRef;
  /** Runs fn within the build's concurrency limit (--jobs). */
  limit: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Final state of another stage (awaiting it if it is still building). */
  stageResult: (index: number) => Promise<StageState>;
  /** The build context, opened once on first use. */
  context: () => Promise<FileSource>;
  created: () => string;
  counters: { cached: number; ran: number };
  /** record notes a cache record this build used or made (for --cache-to). */
  record: (rec: CacheRecord) => void;
  /** Scratch-dir removal and cache record writes, off the critical path; drained before solve returns. */
  background: BackgroundWork;
  /**
   * Set for a step that a RUN of its stage follows: on a cache miss it gets the runtime
   * ready (executor.warm), so its start-up overlaps this step instead of delaying the RUN.
   */
  warmRuntime?: () => void;
  /** USER resolutions by USER and layer stack (see runStep's identity). */
  identities: Map<string, Promise<{ user: ResolvedUser; home: string }>>;
}

/**
 * solve builds the target of a parsed Buildfile: stages the target needs run
 * concurrently as their dependencies finish, each layer step bounded by --jobs.
 */
export async function solve(parsed: ParseResult, deps: SolverDeps, opts: BuildOptions): Promise<BuildResult> {
  const plan = planBuild(parsed, { buildArgs: opts.buildArgs, expand: deps.expand, platformArgs: platformArgs(), ...(opts.target ? { target: opts.target } : {}) });
  checkEntitlements(plan, opts.entitlements ?? new Set());
  const refs = numberSteps(plan);
  const total = refs.size;
  deps.events.emit({ type: 'build.start', total, at: Date.now() });
  const limit = pLimit(Math.max(1, opts.jobs));
  const results = new Map<number, Promise<StageState>>();
  const usedArgs = new Set<string>();
  let ctxSource: Promise<FileSource> | undefined;
  const counters = { cached: 0, ran: 0 };
  const records: BuildResult['records'] = [];
  const background = new BackgroundWork();
  const base = {
    deps, opts, plan, counters, background, identities: new Map(),
    limit: <T>(fn: () => Promise<T>) => limit(fn),
    stageResult: (i: number) => results.get(i) ?? Promise.reject(new TsbuildError('INTERNAL', `stage ${i} is not part of this build`)),
    context: () => (ctxSource ??= deps.files.context()),
    created: () => (opts.sourceDateEpoch !== undefined ? new Date(opts.sourceDateEpoch * 1000) : deps.now()).toISOString(),
  };
  for (const i of plan.needed) {
    const record = (record: CacheRecord) => void records.push({ stage: i, record });
    const p = buildStage(plan.stages[i]!, { ...base, record, step: refs.get(`${i}.0`)! }, refs, usedArgs);
    p.catch(() => {});
    results.set(i, p);
  }
  let solved = false;
  try {
    const final = await results.get(plan.target)!;
    await Promise.all(results.values());
    warnUnusedArgs(deps, opts, usedArgs, plan);
    await ensureBlobs({ ...base, record: () => {}, step: refs.get(`${plan.target}.0`)! }, final.layers);
    solved = true;
    return { config: final.config, layers: final.layers, steps: { total, ...counters }, records, target: plan.target, imageStages: imageStages(plan) };
  } finally {
    await Promise.allSettled(results.values());
    if (ctxSource) await (await ctxSource.catch(() => undefined))?.close();
    // One flush for all the snapshots the build made (step mounts are volatile); a failed
    // build's snapshots are reused by the next build too.
    // A failed cache write or sync is reported, unless the build's own error is already on its way.
    await background.drain().catch((e: unknown) => { if (solved) throw e; });
    await deps.snapshotter.sync().catch((e: unknown) => { if (solved) throw e; });
  }
}

async function buildStage(stage: Stage, sc: StepContext, refs: Map<string, StepRef>, usedArgs: Set<string>): Promise<StageState> {
  for (const d of stage.deps) await sc.stageResult(d);
  sc.deps.events.emit({ type: 'step.start', step: sc.step, at: Date.now() });
  const t0 = Date.now();
  const { state, triggers } = await baseState(stage, sc).catch((e: unknown) => { throw withRange(e, stage.from.range); });
  sc.deps.events.emit({ type: 'step.done', step: sc.step, ms: Date.now() - t0, at: Date.now() });
  // An ARG without a value takes the global one, and BuildKit's automatic platform args
  // (TARGETOS, BUILDPLATFORM, …) count as globals that every build declares.
  const globalArgs = new Map<string, string | undefined>(platformArgs());
  for (const [k, v] of sc.plan.globalArgs) if (v !== undefined || !globalArgs.has(k)) globalArgs.set(k, v);
  const meta: MetaContext = { expand: sc.deps.expand, buildArgs: sc.opts.buildArgs, globalArgs, usedArgs };
  let s = state;
  for (const t of triggers) s = await runInstruction(s, t, { ...sc, step: { ...sc.step, text: `ONBUILD ${t.original}` } }, meta, true);
  const lastRun = stage.instructions.map((i) => i.kind).lastIndexOf('RUN');
  const warmRuntime = () => sc.deps.executor.warm?.();
  for (const [n, ins] of stage.instructions.entries()) {
    sc.opts.signal?.throwIfAborted();
    const step = refs.get(`${stage.index}.${n + 1}`)!;
    s = await runInstruction(s, ins, { ...sc, step, ...(n < lastRun ? { warmRuntime } : {}) }, meta, false);
  }
  return s;
}

async function runInstruction(s: StageState, ins: Instruction, sc: StepContext, meta: MetaContext, quiet: boolean): Promise<StageState> {
  const ev = sc.deps.events;
  try {
    switch (ins.kind) {
      case 'FROM':
        throw new TsbuildError('PARSE_SYNTAX', 'FROM is not allowed here', { range: ins.range });
      case 'RUN':
        return await runStep(s, ins, sc);
      case 'COPY':
      case 'ADD':
        return await copyStep(s, ins, sc);
      case 'WORKDIR':
        return await workdirStep(s, ins, sc, meta);
      default: {
        const next = { ...s, config: structuredClone(s.config), args: new Map(s.args) };
        const createdBy = applyMeta(next, ins, meta);
        if (createdBy !== null) addHistory(next, { created: s.lastCreated, created_by: createdBy, comment: 'buildkit.dockerfile.v0', empty_layer: true });
        if (!quiet) ev.emit({ type: 'step.done', step: sc.step, ms: 0, at: Date.now() });
        return next;
      }
    }
  } catch (e) {
    const located = withRange(e, ins.range);
    // An interrupted step did not fail: what it threw (a killed process, a closed pipe) is not news.
    if (!sc.opts.signal?.aborted) ev.emit({ type: 'step.failed', step: sc.step, message: located instanceof Error ? located.message : String(located), at: Date.now() });
    throw located;
  }
}

/** imageStages follows FROM <stage> links down from the target: the stages whose layers the image holds. */
function imageStages(plan: BuildPlan): number[] {
  const out = [plan.target];
  for (let base = plan.stages[plan.target]!.base; base.kind === 'stage'; base = plan.stages[base.index]!.base) out.push(base.index);
  return out;
}

function numberSteps(plan: BuildPlan): Map<string, StepRef> {
  const refs = new Map<string, StepRef>();
  const multi = plan.needed.length > 1;
  let total = 0;
  for (const i of plan.needed) total += plan.stages[i]!.instructions.length + 1;
  let index = 0;
  for (const i of plan.needed) {
    const st = plan.stages[i]!;
    const all: Instruction[] = [st.from, ...st.instructions];
    all.forEach((ins, n) => {
      const ref: StepRef = { id: `${i}.${n}`, index: ++index, total, text: oneLine(ins.original), range: ins.range };
      if (multi) ref.stage = st.name ?? `stage-${i}`;
      refs.set(`${i}.${n}`, ref);
    });
  }
  return refs;
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 100 ? `${flat.slice(0, 97)}...` : flat;
}

const PREDEFINED = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

function warnUnusedArgs(deps: SolverDeps, opts: BuildOptions, used: Set<string>, plan: BuildPlan): void {
  const unused = [...opts.buildArgs.keys()].filter((k) => !used.has(k) && !plan.globalArgs.has(k) && !PREDEFINED.has(k));
  if (unused.length > 0) deps.events.emit({ type: 'warning', message: `One or more build-args [${unused.sort().join(' ')}] were not consumed`, at: Date.now() });
}
