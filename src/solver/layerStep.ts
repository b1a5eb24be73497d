import { Readable } from 'node:stream';
import type { Digest, DiffID } from '../core/digest.ts';
import { addHistory, cloneState, type StageState } from '../planner/state.ts';
import type { CommitOptions, LayerBlob } from '../snapshot/types.ts';
import { lookupRecord } from './layers.ts';
import type { StepContext } from './solve.ts';

/** commitOptions are what a step's layer commit takes from the build: the SOURCE_DATE_EPOCH clamp and the abort signal. */
export function commitOptions(sc: StepContext): CommitOptions {
  return { ...(sc.opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: sc.opts.sourceDateEpoch } : {}), ...(sc.opts.signal ? { signal: sc.opts.signal } : {}) };
}

/** EMPTY_TAR is an empty tar archive: two zero blocks, as BuildKit writes for a step that changed nothing. */
const EMPTY_TAR = Buffer.alloc(1024);

/**
 * emptyLayer stores the empty tar as a layer (blob and snapshot). Docker 20.10's BuildKit
 * gives WORKDIR of an existing directory such a layer rather than an empty_layer entry.
 */
export async function emptyLayer(sc: StepContext): Promise<LayerBlob> {
  const { digest, size } = await sc.deps.store.putBytes(EMPTY_TAR);
  const diffID = digest as string as DiffID;
  if (!(await sc.deps.snapshotter.has(diffID))) await sc.deps.snapshotter.ensure(diffID, () => Readable.from([EMPTY_TAR]));
  return { diffID, digest, size, mediaType: 'application/vnd.oci.image.layer.v1.tar' };
}

/**
 * cachedLayerStep runs a layer-producing step through the cache: a hit reuses the recorded
 * layer and time; a miss runs produce (within --jobs), records it, and appends the history
 * entry (empty_layer when produce gives null).
 */
export async function cachedLayerStep(s: StageState, sc: StepContext, key: Digest, createdBy: string, produce: () => Promise<LayerBlob | null>): Promise<StageState> {
  const next = cloneState(s);
  next.key = key;
  const ev = sc.deps.events;
  const hit = await lookupRecord(sc, key);
  if (hit) {
    finishLayerStep(next, hit.created, createdBy, hit.layer);
    sc.counters.cached++;
    sc.record(hit);
    ev.emit({ type: 'step.cached', step: sc.step, at: Date.now() });
    return next;
  }
  sc.warmRuntime?.();
  // The step will write a blob: what its commit waits for (DeferredSync's marker) starts now.
  sc.deps.store.expectWrites?.();
  return sc.limit(async () => {
    // A step that waited for its turn (--jobs) does not start once the build is interrupted.
    sc.opts.signal?.throwIfAborted();
    ev.emit({ type: 'step.start', step: sc.step, at: Date.now() });
    const t0 = Date.now();
    const layer = await produce();
    const created = sc.created();
    const rec = { key, layer, created, createdBy };
    // Nothing later in this build reads the record back: it is written while the next step runs.
    sc.background.track(sc.deps.cache.put(rec));
    sc.record(rec);
    finishLayerStep(next, created, createdBy, layer);
    sc.counters.ran++;
    ev.emit({ type: 'step.done', step: sc.step, ms: Date.now() - t0, at: Date.now() });
    return next;
  });
}

/** finishLayerStep appends a step's history entry (and its layer, if any) to the state. */
export function finishLayerStep(next: StageState, created: string, createdBy: string, layer: LayerBlob | null): void {
  addHistory(next, { created, created_by: createdBy, comment: 'buildkit.dockerfile.v0', ...(layer ? {} : { empty_layer: true }) }, layer ?? undefined);
  next.lastCreated = created;
}
