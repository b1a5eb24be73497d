import { parseCacheRecord } from '../cache/parseRecord.ts';
import { TsbuildError } from '../core/errors.ts';
import { parseJsonBytes } from '../oci/parseJson.ts';
import { MAX_CACHE_CONFIG_BYTES, cacheHint, type CacheConfig } from './types.ts';

/**
 * parseCacheConfig parses the config blob of a cache manifest read from where: version 1
 * and a list of records, each checked by parseCacheRecord (every digest parsed) before
 * the build looks any of them up. Throws BAD_CACHE or BAD_DIGEST naming the record.
 */
export function parseCacheConfig(bytes: Uint8Array, where: string): CacheConfig {
  const hint = cacheHint(where);
  const what = `cache ${where}: config`;
  const v = parseJsonBytes(bytes, { what, code: 'BAD_CACHE', hint, max: MAX_CACHE_CONFIG_BYTES }) as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null || v.version !== 1 || !Array.isArray(v.records)) {
    throw new TsbuildError('BAD_CACHE', `${what}: want {"version": 1, "records": [...]}`, { hint });
  }
  v.records.forEach((r, i) => parseCacheRecord(r, { what, hint }, `records[${i}]`));
  return v as unknown as CacheConfig;
}
