import { mkdir, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { lowerFromLayers, resolveInLower } from '../context/lower.ts';
import { randomBytes } from 'node:crypto';
import type { Digest } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import type { CopyInstruction } from '../parser/types.ts';
import { scope } from '../planner/meta.ts';
import { findStage } from '../planner/stages.ts';
import type { StageState } from '../planner/state.ts';
import { resolveChown } from './chownUser.ts';
import type { LayerBlob } from '../snapshot/types.ts';
import type { TarTree } from '../snapshot/treeTar.ts';
import { imageKey, stepKey } from './keys.ts';
import { copyDef, type CopyFlags, type CopySource } from './stepDef.ts';
import { ensureLayers } from './layers.ts';
import { withRootfs } from './rootfsView.ts';
import { cachedLayerStep, commitOptions, emptyLayer } from './layerStep.ts';
import { addUrlStep, isUrl } from './addUrl.ts';
import { isHeredocSource, writeHeredocFiles } from './heredocFiles.ts';
import { mixedCopy } from './mixedCopy.ts';
import type { StepContext } from './solve.ts';
import type { CopyOptions, FileSelection, FileSource } from './types.ts';

/** CopyPlan is a COPY/ADD after expansion: its flags as the step key holds them, its sources and selection options. */
export interface CopyPlan extends CopyFlags {
  sources: string[];
  exclude: string[];
  /** ADD --checksum, expanded (one http(s) source only). */
  checksum: string | undefined;
}

/**
 * copyStep runs COPY/ADD. From the context, the key covers the selected files'
 * content. With --from, it covers the source stage's (or image's) key and the
 * source paths, so a hit needs nothing of the source: it is not even mounted.
 */
export async function copyStep(s: StageState, ins: CopyInstruction, sc: StepContext): Promise<StageState> {
  const env = scope(s);
  const w = (t: string) => sc.deps.expand.word(t, env);
  const plan: CopyPlan = {
    kind: ins.kind,
    sources: ins.sources.map(w),
    dest: w(ins.dest),
    chmod: ins.chmod === undefined ? undefined : w(ins.chmod),
    owner: await resolveOwner(s, ins.chown === undefined ? undefined : w(ins.chown), sc),
    chownGiven: ins.chown !== undefined,
    workdir: s.config.config.WorkingDir || '/',
    exclude: ins.exclude.map(w),
    link: ins.link,
    parents: ins.parents,
    unpack: ins.unpack,
    checksum: ins.checksum === undefined ? undefined : w(ins.checksum),
  };
  checkChecksum(plan, ins);
  if (ins.sources.length > 1) await needDirDest(s, sc, plan, ins);
  const kinds = new Set(plan.sources.map((x) => (isHeredocSource(x) && ins.heredocs.length > 0 ? 'heredoc' : ins.kind === 'ADD' && isUrl(x) ? 'url' : 'file')));
  if (kinds.size > 1 && ins.from === undefined) return mixedCopy(s, ins, sc, plan, copyHistory(ins, plan), env);
  if (ins.kind === 'ADD' && plan.sources.some(isUrl)) return addUrlStep(s, ins, sc, plan, copyHistory(ins, plan));
  if (ins.heredocs.length > 0 && ins.sources.some(isHeredocSource)) return heredocCopy(s, ins, sc, plan, env);
  if (ins.from === undefined) {
    const src = await sc.context();
    const sel = await src.select(plan.sources, { exclude: plan.exclude, parents: ins.parents });
    if (sel.count > 1 && !ins.parents) await needDirDest(s, sc, plan, ins);
    const digest = await src.digest(sel, digestOptions(plan));
    return cachedLayerStep(s, sc, stepKey(s.key, copyDef(plan, [{ from: 'context', digest }])), copyHistory(ins, plan), () => copyLayer(s, sc, src, sel, plan, ins));
  }
  const from = await resolveFrom(ins.from, sc);
  const key = stepKey(s.key, copyDef(plan, [{ from: 'stage', key: from.key, paths: plan.sources, exclude: plan.exclude }]));
  return cachedLayerStep(s, sc, key, copyHistory(ins, plan), () =>
    withRootfs(sc, from.layers, async (merged) => {
      const src = await sc.deps.files.rootfs(merged);
      try {
        const sel = await src.select(plan.sources, { exclude: plan.exclude, parents: ins.parents });
        if (sel.count > 1 && !ins.parents) await needDirDest(s, sc, plan, ins);
        return await copyLayer(s, sc, src, sel, plan, ins);
      } finally {
        await src.close();
      }
    }),
  );
}

/** digestOptions are the flags a selection digest covers: the owner and mode the copy gives each file. */
export function digestOptions(plan: CopyPlan): { uid: number; gid: number; chmod?: string } {
  return { ...plan.owner, ...(plan.chmod !== undefined ? { chmod: plan.chmod } : {}) };
}

/**
 * checkChecksum applies BuildKit's rules to ADD --checksum: it names the content of exactly
 * one http(s) source, so with anything else it could not be checked and is refused.
 */
function checkChecksum(plan: CopyPlan, ins: CopyInstruction): void {
  if (plan.checksum === undefined) return;
  if (plan.sources.length !== 1) throw new TsbuildError('USAGE', `${ins.kind} --checksum can't be specified for multiple sources`, { range: ins.range });
  if (!isUrl(plan.sources[0]!)) throw new TsbuildError('USAGE', `${ins.kind} --checksum can't be specified for non-HTTP(S) sources`, { range: ins.range, hint: 'it checks a download; a context file is already what you have' });
}

/**
 * copyLayer makes the layer of a COPY/ADD of sel. A COPY is planned in memory and its tar
 * streamed from the sources into the store (one read and one write of each file, no layer
 * directory, no snapshot until a later step mounts the layer); ADD, and the rare COPY only a
 * real directory can answer (see planCopy), are written into a layer directory and committed.
 */
export async function copyLayer(s: StageState, sc: StepContext, src: FileSource, sel: FileSelection, plan: CopyPlan, ins: CopyInstruction): Promise<LayerBlob | null> {
  const lowers = ins.link ? [] : await lowerLayers(sc, s.layers);
  const tree = await src.plan(sel, plan.dest, { ...copyOptions(plan, ins, []), lowers });
  if (tree === null) return writeLayer(s, sc, (layerDir, lowers) => copySel(src, sel, layerDir, lowers, plan, ins));
  return (await sc.deps.snapshotter.commitTree(tree, commitOptions(sc))) ?? (await emptyLayer(sc));
}

/**
 * lowerLayers gives the layers below a COPY, topmost first, as what the COPY's plan reads: the
 * extracted dir, or the tree of a layer an earlier COPY of this process made, which then needs
 * no extraction (so a run of COPY steps extracts none of the layers it makes).
 */
async function lowerLayers(sc: StepContext, layers: readonly LayerBlob[]): Promise<Array<string | TarTree>> {
  const out: Array<string | TarTree> = [];
  for (const l of [...layers].reverse()) {
    const tree = (await sc.deps.snapshotter.has(l.diffID)) ? undefined : sc.deps.snapshotter.tree(l.diffID);
    if (tree === undefined) await ensureLayers(sc, [l]);
    out.push(tree ?? sc.deps.snapshotter.layerDir(l.diffID));
  }
  return out;
}

export function copySel(src: FileSource, sel: FileSelection, layerDir: string, lowerDirs: string[], plan: CopyPlan, ins: CopyInstruction): Promise<void> {
  return src.copy(sel, layerDir, plan.dest, copyOptions(plan, ins, lowerDirs));
}

function copyOptions(plan: CopyPlan, ins: CopyInstruction, lowerDirs: string[]): CopyOptions {
  // --link: the layer is made on its own, not on top of the image (BuildKit's rebased copy):
  // new parent directories are 0755 root and the image's symlinks are not followed.
  // ADD --unpack=false copies a local archive as a file: exactly what COPY does.
  return { workdir: plan.workdir, ...plan.owner, ...(plan.chmod !== undefined ? { chmod: plan.chmod } : {}), add: ins.kind === 'ADD' && ins.unpack !== false, chownGiven: plan.chownGiven, lowerDirs: ins.link ? [] : lowerDirs };
}

/** heredocCopy runs `COPY <<EOF dest`: the bodies become files in a scratch dir, copied with COPY's rules. */
async function heredocCopy(s: StageState, ins: CopyInstruction, sc: StepContext, plan: CopyPlan, env: Map<string, string>): Promise<StageState> {
  const docs = await writeHeredocFiles(ins, sc.deps.tmpDir, sc.deps.expand, env);
  try {
    const src = await sc.deps.files.rootfs(docs.dir);
    try {
      const sel = await src.select(docs.names, { exclude: [], parents: false });
      const sources: CopySource[] = [{ from: 'heredoc', digest: await src.digest(sel, digestOptions(plan)) }];
      return await cachedLayerStep(s, sc, stepKey(s.key, copyDef(plan, sources)), copyHistory(ins, plan), () => copyLayer(s, sc, src, sel, plan, ins));
    } finally {
      await src.close();
    }
  } finally {
    await docs.cleanup();
  }
}

/** cachedCopy is a layer step whose layer is a fresh directory written by write (COPY/ADD never need a container). */
export function cachedCopy(s: StageState, createdBy: string, sc: StepContext, key: Digest, write: (layerDir: string, lowerDirs: string[]) => Promise<void>): Promise<StageState> {
  return cachedLayerStep(s, sc, key, createdBy, () => writeLayer(s, sc, write));
}

/** writeLayer gives fn a fresh layer dir (and the image's layer dirs, topmost first), then commits it. */
export async function writeLayer(s: StageState, sc: StepContext, fn: (layerDir: string, lowerDirs: string[]) => Promise<void>): Promise<LayerBlob | null> {
  await ensureLayers(sc, s.layers);
  const dir = join(sc.deps.tmpDir, `copy-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  try {
    await fn(dir, s.layers.map((l) => sc.deps.snapshotter.layerDir(l.diffID)).reverse());
    // As BuildKit, a COPY that wrote nothing still has a (empty) layer.
    return (await sc.deps.snapshotter.commitDir(dir, commitOptions(sc))) ?? (await emptyLayer(sc));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}


async function resolveOwner(s: StageState, chown: string | undefined, sc: StepContext): Promise<{ uid: number; gid: number }> {
  if (chown === undefined || chown === '') return { uid: 0, gid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(chown);
  if (m) return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
  return withRootfs(sc, s.layers, (merged) => resolveChown(merged, chown));
}

export async function resolveFrom(from: string, sc: StepContext): Promise<{ key: Digest; layers: readonly LayerBlob[] }> {
  const stage = findStage(sc.plan.stages, from, Number(sc.step.id.split('.')[0]));
  const src = stage ? await sc.stageResult(stage.index) : await imageSource(from, sc);
  if (src.layers.length === 0) throw new TsbuildError('COPY_SOURCE_MISSING', `--from=${from}: the source has no files`);
  return src;
}

async function imageSource(ref: string, sc: StepContext): Promise<{ key: Digest; layers: readonly LayerBlob[] }> {
  const img = await sc.deps.images.resolve(ref);
  return { key: imageKey(img.configDigest), layers: img.layers };
}

/**
 * copyHistory is the created_by of a COPY/ADD as Docker 20.10's BuildKit writes it: the
 * keyword, the sources and the destination after variable expansion, no flags; a heredoc
 * source reads `<<NAME` (BuildKit's dockerfile:1.4 form).
 */
function copyHistory(ins: CopyInstruction, plan: CopyPlan): string {
  const docs = ins.heredocs.length > 0 ? plan.sources.filter(isHeredocSource) : [];
  const paths = plan.sources.filter((src) => !docs.includes(src));
  return `${ins.kind} ${[...paths, ...ins.heredocs.slice(0, docs.length).map((h) => `<<${h.name}`), plan.dest].join(' ')} # buildkit`;
}

/** needDirDest refuses several sources (or wildcard matches) copied to a destination that is not a directory. */
async function needDirDest(s: StageState, sc: StepContext, plan: CopyPlan, ins: CopyInstruction): Promise<void> {
  if (await destIsDir(s, sc, plan)) return;
  throw new TsbuildError('PARSE_SYNTAX', `When using ${ins.kind} with more than one source file, the destination must be a directory and end with a /`, { range: ins.range });
}

/**
 * destIsDir tells whether a destination stands for a directory: it ends in `/`, `.` or `..`,
 * or it is a directory in the image. BuildKit 20.10 copies several sources to any other
 * destination one over the other, leaving only the last; we refuse that, as Docker documents.
 */
async function destIsDir(s: StageState, sc: StepContext, plan: CopyPlan): Promise<boolean> {
  if (plan.dest.endsWith('/') || /(^|\/)\.\.?$/.test(plan.dest) || plan.dest === '') return true;
  const lower = lowerFromLayers(await lowerLayers(sc, s.layers));
  const abs = posix.isAbsolute(plan.dest) ? plan.dest : posix.join(plan.workdir, plan.dest);
  return (await lower.lstat(await resolveInLower(lower, posix.normalize(abs))))?.type === 'dir';
}
