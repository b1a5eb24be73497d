import type { Digest } from '../core/digest.ts';
import type { LayerBlob } from '../snapshot/types.ts';

/** CacheRecord is what a cache key resolves to: the layer a step produced and when. */
export interface CacheRecord {
  /** The key this record is stored under (sha256 of the step's definition and inputs). */
  key: Digest;
  /** The layer the step committed; null when the step changed no file. */
  layer: LayerBlob | null;
  /** RFC 3339 time the step first ran: reused on hits so rebuilt images keep their ids. */
  created: string;
  /** The history line (created_by) of the step. */
  createdBy: string;
  /** What went into the key, for explaining misses (`tsbuild build --explain`, later). */
  inputs?: Record<string, string>;
}
