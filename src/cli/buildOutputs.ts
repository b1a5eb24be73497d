import { TsbuildError } from '../core/errors.ts';

/** CacheSpec is one --cache-to / --cache-from value. */
export type CacheSpec =
  | { type: 'registry'; ref: string; mode: 'min' | 'max' }
  | { type: 'local'; dir: string; mode: 'min' | 'max' };

/** OutputSpec is one --output value (BuildKit's syntax). */
export type OutputSpec = { type: 'oci' | 'docker'; dest: string } | { type: 'local'; dest: string };

function fields(flag: string, value: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of value.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) throw new TsbuildError('USAGE', `${flag} "${value}": expected key=value pairs, got "${part}"`);
    m.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return m;
}

/**
 * parseCacheSpec reads `type=registry,ref=REG/NAME:TAG[,mode=min|max]`,
 * `type=local,dest=DIR` (for --cache-to) or `type=local,src=DIR` (for
 * --cache-from); a bare reference means type=registry.
 */
export function parseCacheSpec(flag: '--cache-to' | '--cache-from', value: string): CacheSpec {
  if (!value.includes('=')) return { type: 'registry', ref: value, mode: 'min' };
  const f = fields(flag, value);
  const type = f.get('type') ?? 'registry';
  const mode = f.get('mode') ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw new TsbuildError('USAGE', `${flag}: mode must be min or max, not "${mode}"`);
  if (type === 'registry') {
    const ref = f.get('ref');
    if (!ref) throw new TsbuildError('USAGE', `${flag} type=registry needs ref=REGISTRY/NAME:TAG`);
    return { type, ref, mode };
  }
  if (type === 'local') {
    const dir = flag === '--cache-to' ? f.get('dest') : f.get('src') ?? f.get('dest');
    if (!dir) throw new TsbuildError('USAGE', `${flag} type=local needs ${flag === '--cache-to' ? 'dest' : 'src'}=DIR`);
    return { type, dir, mode };
  }
  throw new TsbuildError('USAGE', `${flag}: unsupported cache type "${type}" (supported: registry, local)`);
}

/** parseOutputSpec reads `type=oci|docker,dest=FILE` or `type=local,dest=DIR`. */
export function parseOutputSpec(value: string): OutputSpec {
  const f = fields('--output', value);
  const type = f.get('type');
  const dest = f.get('dest');
  if (!dest) throw new TsbuildError('USAGE', `--output "${value}" needs dest=PATH`);
  if (type === 'oci' || type === 'docker' || type === 'local') return { type, dest };
  throw new TsbuildError('USAGE', `--output: unsupported type "${type ?? ''}" (supported: oci, docker, local)`);
}
