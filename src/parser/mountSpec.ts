import { posix } from 'node:path';
import { TsbuildError } from '../core/errors.ts';

/** RunMount is one parsed `RUN --mount=...` (BuildKit's dockerfile syntax). */
export type RunMount =
  | { type: 'bind'; target: string; source: string; from?: string; readonly: boolean }
  | { type: 'cache'; target: string; id: string; sharing: 'shared' | 'private' | 'locked'; readonly: boolean; mode: number; uid: number; gid: number; from?: string; source?: string }
  | { type: 'tmpfs'; target: string; size?: number }
  | { type: 'secret'; target: string; id: string; required: boolean; mode: number; uid: number; gid: number };

const TYPES = ['bind', 'cache', 'tmpfs', 'secret'] as const;

function bool(key: string, v: string | undefined): boolean {
  if (v === undefined || v === '' || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw bad(`invalid value for ${key}: ${v}`);
}

function int(key: string, v: string | undefined, base = 10): number {
  const n = v === undefined ? NaN : base === 8 ? (/^[0-7]+$/.test(v) ? parseInt(v, 8) : NaN) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw bad(`invalid value for ${key}: ${v}`);
  return n;
}

function bad(msg: string): TsbuildError {
  return new TsbuildError('PARSE_FLAG', `--mount: ${msg}`);
}

function absTarget(target: string | undefined, workdir: string): string | undefined {
  if (target === undefined || target === '') return undefined;
  return posix.normalize(posix.isAbsolute(target) ? target : posix.join(workdir, target));
}

/**
 * parseMount parses one --mount value (`type=cache,target=/root/.cache,sharing=locked`) with
 * BuildKit's rules: type defaults to bind; target (dst, destination) is required except for a
 * secret (default /run/secrets/ID); a relative target is under WORKDIR; bind mounts are
 * read-only unless rw, cache mounts writable unless ro; a cache's id defaults to its target and
 * a secret's id to its target's base name; cache mode defaults to 0755 and a secret's to 0400.
 * expand applies build args and ENV to every value but `from`, which stays literal as in BuildKit.
 */
export function parseMount(raw: string, workdir: string, expand: (s: string) => string): RunMount {
  const kv = new Map<string, string | undefined>();
  for (const field of raw.split(',')) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    // `from` names a stage or image and is never expanded (BuildKit: stage dependencies are
    // known before any build arg is); every other value is.
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    kv.set(key, value === undefined || key === 'from' ? value : expand(value));
  }
  const get = (...keys: string[]) => { for (const k of keys) if (kv.has(k)) return kv.get(k) ?? ''; return undefined; };
  const type = (get('type') ?? 'bind') as (typeof TYPES)[number];
  if (!TYPES.includes(type)) throw bad(`unsupported mount type "${type}": want bind, cache, tmpfs or secret`);
  const target = absTarget(get('target', 'dst', 'destination'), workdir);
  const ro = kv.has('readonly') || kv.has('ro') ? bool('readonly', get('readonly', 'ro')) : kv.has('readwrite') || kv.has('rw') ? !bool('readwrite', get('readwrite', 'rw')) : undefined;
  const from = get('from');
  const source = get('source', 'src');
  const owner = { uid: kv.has('uid') ? int('uid', get('uid')) : 0, gid: kv.has('gid') ? int('gid', get('gid')) : 0 };
  switch (type) {
    case 'bind':
      if (!target) throw bad('a bind mount needs target=');
      return { type, target, source: source ?? '/', ...(from ? { from } : {}), readonly: ro ?? true };
    case 'cache': {
      if (!target) throw bad('a cache mount needs target=');
      const sharing = (get('sharing') ?? 'shared') as 'shared' | 'private' | 'locked';
      if (!['shared', 'private', 'locked'].includes(sharing)) throw bad(`invalid sharing "${sharing}": want shared, private or locked`);
      return {
        type, target, id: get('id') || target, sharing, readonly: ro ?? false, mode: kv.has('mode') ? int('mode', get('mode'), 8) : 0o755, ...owner,
        ...(from ? { from } : {}), ...(source !== undefined ? { source } : {}),
      };
    }
    case 'tmpfs': {
      if (!target) throw bad('a tmpfs mount needs target=');
      const size = get('size');
      return { type, target, ...(size ? { size: int('size', size) } : {}) };
    }
    case 'secret': {
      const id = get('id') || (target ? posix.basename(target) : '');
      if (!id) throw bad('a secret mount needs id= or target=');
      return { type, target: target ?? `/run/secrets/${id}`, id, required: kv.has('required') ? bool('required', get('required')) : false, mode: kv.has('mode') ? int('mode', get('mode'), 8) : 0o400, ...owner };
    }
  }
}
