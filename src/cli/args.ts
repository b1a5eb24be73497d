import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TsbuildError } from '../core/errors.ts';

/**
 * parseCommandArgs wraps util.parseArgs so that every usage mistake becomes one
 * clear TsbuildError('USAGE') line instead of a Node stack trace.
 */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0]!.replace(/^TypeError \[\w+\]: /, '') : String(e);
    throw new TsbuildError('USAGE', `${command}: ${msg}`, { hint: `run 'tsbuild ${command} --help'` });
  }
}

/** parseKeyValues turns repeated K=V options into a Map (K alone takes the value from env, as docker does). */
export function parseKeyValues(values: string[] | undefined, env: Readonly<Record<string, string | undefined>>, what: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of values ?? []) {
    const i = kv.indexOf('=');
    if (i === 0) throw new TsbuildError('USAGE', `invalid ${what} "${kv}": empty name`);
    if (i < 0) {
      const v = env[kv];
      if (v !== undefined) out.set(kv, v);
    } else out.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return out;
}
