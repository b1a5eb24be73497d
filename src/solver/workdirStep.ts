import { randomBytes } from 'node:crypto';
import { chown, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { WorkdirInstruction } from '../parser/types.ts';
import { applyMeta, type MetaContext } from '../planner/meta.ts';
import { addHistory, type StageState } from '../planner/state.ts';
import { secureJoin } from '../sys/secureJoin.ts';
import type { LayerBlob } from '../snapshot/types.ts';
import { resolveChown } from './chownUser.ts';
import { stepKey } from './keys.ts';
import { cleanPath } from './stepDef.ts';
import { cachedLayerStep, commitOptions, emptyLayer } from './layerStep.ts';
import { ensureLayers, overlayParents } from './layers.ts';
import type { StepContext } from './solve.ts';

/**
 * workdirStep runs WORKDIR as Docker 20.10's BuildKit does: besides setting WorkingDir it
 * makes a layer that creates the directory (`mkdir -p`, 0755, new directories owned by the
 * stage's USER as a --chown would resolve it). A directory that already exists still gets
 * a layer, an empty one; only `WORKDIR /` is a config-only step.
 */
export async function workdirStep(s: StageState, ins: WorkdirInstruction, sc: StepContext, meta: MetaContext): Promise<StageState> {
  const cfgState = { ...s, config: structuredClone(s.config), args: new Map(s.args) };
  const createdBy = applyMeta(cfgState, ins, meta)!;
  const wd = cfgState.config.config.WorkingDir ?? '/';
  if (wd === '/') {
    addHistory(cfgState, { created: s.lastCreated, created_by: createdBy, comment: 'buildkit.dockerfile.v0', empty_layer: true });
    sc.deps.events.emit({ type: 'step.done', step: sc.step, ms: 0, at: Date.now() });
    return cfgState;
  }
  const user = s.config.config.User ?? '';
  const key = stepKey(s.key, { kind: 'WORKDIR', path: cleanPath(wd), user });
  const next = await cachedLayerStep(cfgState, sc, key, createdBy, () => makeWorkdir(s, sc, wd, user));
  return next;
}

async function makeWorkdir(s: StageState, sc: StepContext, wd: string, user: string): Promise<LayerBlob | null> {
  await ensureLayers(sc, s.layers);
  const dir = join(sc.deps.tmpDir, `workdir-${randomBytes(6).toString('hex')}`);
  const active = await sc.deps.snapshotter.prepare(dir, overlayParents(s.layers));
  try {
    await active.mount();
    const host = await secureJoin(active.merged, wd);
    const first = await mkdir(host, { recursive: true, mode: 0o755 });
    if (first !== undefined && user !== '') {
      const owner = await resolveChown(active.merged, user);
      for (let d = host; d.length >= first.length; d = dirname(d)) await chown(d, owner.uid, owner.gid);
    }
    const layer = await active.commit(commitOptions(sc));
    return layer ?? (await emptyLayer(sc));
  } finally {
    await active.remove();
  }
}
