import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TsbuildError } from '../core/errors.ts';
import type { CopyInstruction } from '../parser/types.ts';
import { scope } from '../planner/meta.ts';
import { findStage } from '../planner/stages.ts';
import { addHistory, cloneState, type StageState } from '../planner/state.ts';
import { resolveUser } from '../executor/resolveUser.ts';
import { stepKey } from './keys.ts';
import { lookup } from './runStep.ts';
import { withRootfs } from './rootfsView.ts';
import type { StepContext } from './solve.ts';
import type { FileSource } from './types.ts';
import type { LayerBlob } from '../snapshot/types.ts';

/** copyStep runs COPY/ADD: selects sources, keys the step by their content, writes them into a new layer. */
export async function copyStep(s: StageState, ins: CopyInstruction, sc: StepContext): Promise<StageState> {
  const env = scope(s);
  const w = (t: string) => sc.deps.expand.word(t, env);
  const sources = ins.sources.map(w);
  const dest = w(ins.dest);
  const chmod = ins.chmod === undefined ? undefined : w(ins.chmod);
  const owner = await resolveOwner(s, ins.chown === undefined ? undefined : w(ins.chown), sc);
  const workdir = s.config.config.WorkingDir || '/';
  const next = cloneState(s);
  const createdBy = `${ins.kind} ${ins.flags.length ? `${ins.flags.map((f) => `--${f.name}${f.value === null ? '' : `=${f.value}`}`).join(' ')} ` : ''}${[...ins.sources, ins.dest].join(' ')} # buildkit`;
  return withSource(ins, sc, async (src) => {
    const sel = await src.select(sources, { exclude: ins.exclude.map(w), parents: ins.parents });
    const digest = await src.digest(sel, { ...owner, ...(chmod !== undefined ? { chmod } : {}) });
    const key = stepKey(s.key, { op: ins.kind, digest, dest, workdir: dest.startsWith('/') ? '' : workdir, owner, chmod: chmod ?? null, parents: ins.parents, link: ins.link });
    next.key = key;
    const hit = sc.opts.noCache ? undefined : await lookup(sc, key);
    if (hit) {
      finish(next, hit.created, createdBy, hit.layer);
      sc.counters.cached++;
      sc.deps.events.emit({ type: 'step.cached', step: sc.step, at: Date.now() });
      return next;
    }
    return sc.limit(async () => {
      sc.deps.events.emit({ type: 'step.start', step: sc.step, at: Date.now() });
      const t0 = Date.now();
      const layer = await writeLayer(s, sc, async (layerDir, lowerDirs) => {
        await src.copy(sel, layerDir, dest, { workdir, ...owner, ...(chmod !== undefined ? { chmod } : {}), add: ins.kind === 'ADD', lowerDirs });
      });
      const created = sc.created();
      await sc.deps.cache.put({ key, layer, created, createdBy });
      finish(next, created, createdBy, layer);
      sc.counters.ran++;
      sc.deps.events.emit({ type: 'step.done', step: sc.step, ms: Date.now() - t0, at: Date.now() });
      return next;
    });
  });
}

/** writeLayer gives fn a fresh layer dir (and the image's layer dirs, topmost first), then commits it. */
async function writeLayer(s: StageState, sc: StepContext, fn: (layerDir: string, lowerDirs: string[]) => Promise<void>): Promise<LayerBlob | null> {
  const dir = join(sc.deps.tmpDir, `copy-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  try {
    await fn(dir, s.layers.map((l) => sc.deps.snapshotter.layerDir(l.diffID)).reverse());
    return await sc.deps.snapshotter.commitDir(dir, sc.opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: sc.opts.sourceDateEpoch } : {});
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function finish(next: StageState, created: string, createdBy: string, layer: LayerBlob | null): void {
  addHistory(next, { created, created_by: createdBy, comment: 'buildkit.dockerfile.v0', ...(layer ? {} : { empty_layer: true }) }, layer ?? undefined);
  next.lastCreated = created;
}

async function resolveOwner(s: StageState, chown: string | undefined, sc: StepContext): Promise<{ uid: number; gid: number }> {
  if (chown === undefined || chown === '') return { uid: 0, gid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(chown);
  if (m) return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
  return withRootfs(sc.deps, s.layers, async (merged) => {
    const u = await resolveUser(merged, chown.includes(':') ? chown : `${chown}:${chown}`).catch(() => resolveUser(merged, chown));
    return { uid: u.uid, gid: u.gid };
  });
}

async function withSource<T>(ins: CopyInstruction, sc: StepContext, fn: (src: FileSource) => Promise<T>): Promise<T> {
  if (ins.from === undefined) return fn(await sc.context());
  const stage = findStage(sc.plan.stages, ins.from, Number(sc.step.id.split('.')[0]));
  let layers: readonly LayerBlob[];
  if (stage) layers = (await sc.stageResult(stage.index)).layers;
  else {
    const img = await sc.deps.images.resolve(ins.from);
    for (const l of img.layers) await sc.deps.snapshotter.ensure(l.diffID, () => sc.deps.store.open(l.digest));
    layers = img.layers;
  }
  if (layers.length === 0) throw new TsbuildError('COPY_SOURCE_MISSING', `${ins.kind} --from=${ins.from}: the source has no files`);
  return withRootfs(sc.deps, layers, async (merged) => {
    const src = await sc.deps.files.rootfs(merged);
    try {
      return await fn(src);
    } finally {
      await src.close();
    }
  });
}
