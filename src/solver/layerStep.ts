import { Readable } from 'node:stream';
import { hexOf, type Digest, type DiffID } from '../core/digest.ts';
import { addHistory, cloneState, type StageState } from '../planner/state.ts';
import type { CommitOptions, LayerBlob } from '../snapshot/types.ts';
import { acquireLock, tryLock, type Release } from '../store/lock.ts';
import type { CacheRecord } from '../cache/types.ts';
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
 * entry (empty_layer when produce gives null). One producer per key at a time, across
 * processes (single flight): a miss takes the key's lock first, and a step that waited for
 * another producer (another build on the store, or another stage of this one) finds its
 * record and reuses it. The lock is given back once the record is written; a producer that
 * dies gives it back with its life (store/lock.ts), and the next waiter produces instead.
 */
export async function cachedLayerStep(s: StageState, sc: StepContext, key: Digest, createdBy: string, produce: () => Promise<LayerBlob | null>): Promise<StageState> {
  const next = cloneState(s);
  next.key = key;
  const ev = sc.deps.events;
  const hit = await lookupRecord(sc, key);
  if (hit) return reuse(next, sc, hit, createdBy);
  sc.warmRuntime?.();
  // The step will write a blob: what its commit waits for (DeferredSync's marker) starts now.
  sc.deps.store.expectWrites?.();
  let release: Release | undefined;
  if (!sc.opts.noCache) {
    const name = `step-${hexOf(key)}`;
    release = await tryLock(sc.deps.tmpDir, name);
    if (!release) {
      ev.emit({ type: 'info', message: `${sc.step.text}: waiting for another build (or stage) that runs this step`, at: Date.now() });
      release = await acquireLock(sc.deps.tmpDir, name, { timeoutMs: Infinity, ...(sc.opts.signal ? { signal: sc.opts.signal } : {}) });
    }
    const made = await lookupRecord(sc, key).catch(async (e: unknown) => { await release!(); throw e; });
    if (made) {
      await release();
      return reuse(next, sc, made, createdBy);
    }
  }
  try {
    return await sc.limit(async () => {
      // A step that waited for its turn (--jobs) does not start once the build is interrupted.
      sc.opts.signal?.throwIfAborted();
      ev.emit({ type: 'step.start', step: sc.step, at: Date.now() });
      const t0 = Date.now();
      const layer = await produce();
      const created = sc.created();
      const rec = { key, layer, created, createdBy };
      // Nothing later in this build reads the record back: it is written while the next step
      // runs, and the key's lock is given back once it is there for the builds waiting on it.
      const free = release;
      release = undefined;
      sc.background.track(free ? sc.deps.cache.put(rec).finally(free) : sc.deps.cache.put(rec));
      sc.record(rec);
      finishLayerStep(next, created, createdBy, layer);
      sc.counters.ran++;
      ev.emit({ type: 'step.done', step: sc.step, ms: Date.now() - t0, at: Date.now() });
      return next;
    });
  } finally {
    await release?.();
  }
}

/** reuse takes a step's result from its cache record. */
function reuse(next: StageState, sc: StepContext, rec: CacheRecord, createdBy: string): StageState {
  finishLayerStep(next, rec.created, createdBy, rec.layer);
  sc.counters.cached++;
  sc.record(rec);
  sc.deps.events.emit({ type: 'step.cached', step: sc.step, at: Date.now() });
  return next;
}

/** finishLayerStep appends a step's history entry (and its layer, if any) to the state. */
export function finishLayerStep(next: StageState, created: string, createdBy: string, layer: LayerBlob | null): void {
  addHistory(next, { created, created_by: createdBy, comment: 'buildkit.dockerfile.v0', ...(layer ? {} : { empty_layer: true }) }, layer ?? undefined);
  next.lastCreated = created;
}
