import { sha256Of, type Digest } from '../core/digest.ts';
import { canonicalJson } from '../oci/canonicalJson.ts';
import type { StepDef } from './stepDef.ts';

/**
 * stepKey is the cache key of a layer-producing step: the parent filesystem's key plus the
 * step's typed definition (stepDef.ts), never cosmetic data, host paths or times. Equal
 * inputs give equal keys on any machine. v2: the typed definitions (v1 keys were free-form
 * records, one of which let `ADD --chown=0:0` hit a plain `ADD`'s record).
 */
export function stepKey(parent: Digest, def: StepDef): Digest {
  return sha256Of(canonicalJson({ v: 2, parent, def }));
}

/** imageKey is the key an image stands for as a source (COPY --from=IMAGE, RUN --mount=from=IMAGE): its config digest. */
export function imageKey(config: Digest): Digest {
  return sha256Of(canonicalJson({ v: 2, image: config }));
}

/**
 * rootKey is the key a stage's first step builds on: the base's own key, with the
 * SOURCE_DATE_EPOCH clamp mixed in when it is set. The clamp changes every layer
 * (mtimes) and history time the build makes, so, as BuildKit treats it as a build arg,
 * it is part of every layer step's key through the stage root: a clamped build never
 * reuses an unclamped record nor the reverse. Without it, keys are as before.
 */
export function rootKey(base: Digest, sourceDateEpoch: number | undefined): Digest {
  return sourceDateEpoch === undefined ? base : sha256Of(canonicalJson({ v: 1, base, sourceDateEpoch }));
}
