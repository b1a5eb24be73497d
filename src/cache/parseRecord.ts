import { parseDiffID, parseDigest } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import type { CacheRecord } from './types.ts';

/** RecordSource names where records come from (`cache DIR: config`), for errors. */
export interface RecordSource {
  what: string;
  hint?: string;
}

/**
 * parseCacheRecord checks a cache record read from outside or from disk: its key and
 * its layer's digests (they name files: cache/keys/<hex>, blobs, snapshots) through
 * core's parseDigest, the layer's size and media type, the history strings. `at` names
 * the record (`records[3]`). Throws BAD_DIGEST or BAD_CACHE naming src and at.
 */
export function parseCacheRecord(v: unknown, src: RecordSource, at: string): CacheRecord {
  const bad = (msg: string) => new TsbuildError('BAD_CACHE', `${src.what}: ${at}${msg}`, src.hint ? { hint: src.hint } : {});
  const ctx = (field: string) => ({ what: `${src.what}: ${at}.${field}`, ...(src.hint ? { hint: src.hint } : {}) });
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(': want a cache record');
  const r = v as Record<string, unknown>;
  parseDigest(r.key, ctx('key'));
  if (r.layer !== null) {
    const l = r.layer as Record<string, unknown> | undefined;
    if (typeof l !== 'object' || l === null || Array.isArray(l)) throw bad('.layer: want a layer (diffID, digest, size, mediaType) or null');
    parseDiffID(l.diffID, ctx('layer.diffID'));
    parseDigest(l.digest, ctx('layer.digest'));
    if (typeof l.size !== 'number' || !Number.isSafeInteger(l.size) || l.size < 0) throw bad('.layer.size: want a byte count');
    if (typeof l.mediaType !== 'string') throw bad('.layer.mediaType: want a string');
  }
  if (typeof r.created !== 'string' || Number.isNaN(Date.parse(r.created))) throw bad('.created: want a created time');
  if (typeof r.createdBy !== 'string') throw bad('.createdBy: want a string');
  return r as unknown as CacheRecord;
}
