import { TsbuildError } from '../core/errors.ts';

/**
 * parseSourceDateEpoch reads $SOURCE_DATE_EPOCH: undefined when unset or empty, else
 * whole seconds since 1970. Anything else is a usage error rather than silently an
 * unclamped (irreproducible) result.
 */
export function parseSourceDateEpoch(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new TsbuildError('USAGE', `SOURCE_DATE_EPOCH must be whole seconds since 1970, not "${v}"`);
  return Number(v);
}
