import { sha256Of, type Digest } from '../core/digest.ts';
import { canonicalJson } from '../oci/canonicalJson.ts';

/**
 * stepKey is the cache key of a layer-producing step: the parent filesystem's key
 * plus everything that defines the step (as expanded), never cosmetic data,
 * host paths or times. Equal inputs give equal keys on any machine.
 */
export function stepKey(parent: Digest, def: Record<string, unknown>): Digest {
  return sha256Of(canonicalJson({ v: 1, parent, def }));
}
