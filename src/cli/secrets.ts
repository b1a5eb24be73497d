import { resolve } from 'node:path';
import { TsbuildError } from '../core/errors.ts';
import type { SecretSource } from '../solver/types.ts';

/**
 * parseSecrets reads `--secret id=ID[,src=FILE|,source=FILE|,env=NAME]` flags (Docker's
 * syntax; `type=file|env` is accepted too). With neither src nor env, the environment
 * variable named ID is used if set, else a file named ID. Environment values are read here,
 * the only place allowed to; files are read only when a RUN mounts the secret.
 */
export function parseSecrets(values: string[] | undefined, env: Readonly<Record<string, string | undefined>>): Map<string, SecretSource> {
  const out = new Map<string, SecretSource>();
  for (const v of values ?? []) {
    const kv = new Map<string, string>();
    for (const part of v.split(',')) {
      const i = part.indexOf('=');
      if (i <= 0) throw new TsbuildError('USAGE', `invalid --secret "${v}": want id=ID,src=FILE or id=ID,env=NAME`);
      kv.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1));
    }
    const id = kv.get('id');
    if (!id) throw new TsbuildError('USAGE', `invalid --secret "${v}": id= is required`);
    const src = kv.get('src') ?? kv.get('source');
    const name = kv.get('env') ?? (kv.get('type') === 'env' ? id : undefined);
    if (src !== undefined) out.set(id, { path: resolve(src) });
    else if (name !== undefined) {
      const value = env[name];
      if (value === undefined) throw new TsbuildError('USAGE', `--secret id=${id}: environment variable ${name} is not set`);
      out.set(id, { value });
    } else if (env[id] !== undefined) out.set(id, { value: env[id]! });
    else out.set(id, { path: resolve(id) });
  }
  return out;
}
