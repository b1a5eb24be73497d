import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TsbuildError } from '../core/errors.ts';
import type { CliContext, Command, OptionSpec } from './context.ts';
import { suggest } from '../parser/suggest.ts';

/** BOOLS are the values a boolean flag takes as --flag=VALUE, as Go's strconv.ParseBool (Docker's flags) reads them. */
const BOOLS: Readonly<Record<string, boolean>> = { 1: true, t: true, T: true, true: true, TRUE: true, True: true, 0: false, f: false, F: false, false: false, FALSE: false, False: false };

/**
 * parseCommandArgs wraps util.parseArgs so that every usage mistake becomes one clear
 * TsbuildError('USAGE') line naming the command as it was typed (`image ls: unknown flag
 * --al (did you mean --all?)`), with a suggestion when a flag is a likely typo, instead of
 * Node's message or stack trace. A boolean flag also takes `--flag=true` and `--flag=false`,
 * as in Docker.
 */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = true,
) {
  const fail = (msg: string) => new TsbuildError('USAGE', `${command}: ${msg}`, { hint: `run 'tsbuild ${command} --help'` });
  const args = [...argv];
  const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'positional' && !allowPositionals) throw fail(`unexpected argument "${t.value}"`);
    if (t.kind !== 'option') continue;
    const spec = options[t.name];
    if (spec === undefined) throw fail(unknownFlag(t.rawName, options));
    if (spec.type === 'boolean' && t.value !== undefined) {
      const v = BOOLS[t.value];
      if (v === undefined) throw fail(`flag --${t.name} takes true or false, not "${t.value}"`);
      args[t.index] = v ? `--${t.name}` : '';
    } else if (spec.type === 'string' && (t.value === undefined || (!t.inlineValue && t.value.startsWith('-') && t.value !== '-'))) {
      throw fail(`flag ${t.rawName} needs a value${t.value === undefined ? '' : ` (one that starts with "-" is written --${t.name}=${t.value})`}`);
    }
  }
  try {
    return parseArgs({ args: args.filter((a, i) => a !== '' || argv[i] === ''), options, allowPositionals, strict: true });
  } catch (e) {
    throw fail(e instanceof Error ? e.message.split('\n')[0]!.replace(/^TypeError \[\w+\]: /, '') : String(e));
  }
}

/** unknownFlag says that a flag is not one of options, suggesting the likely one (suggest). */
export function unknownFlag(raw: string, options: Readonly<Record<string, { readonly type: string; readonly short?: string | undefined }>>): string {
  const names = Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
  const hint = raw.startsWith('--') ? suggest(raw, names.filter((n) => n.startsWith('--'))) : undefined;
  return `unknown flag ${raw}${hint ? ` (did you mean ${hint}?)` : ''}`;
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

/** withOptions attaches a command's option spec to it (see Command.options). */
export function withOptions(options: OptionSpec, run: (argv: string[], ctx: CliContext) => Promise<number>): Command {
  return Object.assign(run, { options });
}

/** LeadingToken is one argument of a command's leading options, as optionsEnd reads them. */
export type LeadingToken =
  | { kind: 'option'; name: string; index: number; value?: { inline: boolean; index: number } }
  | { kind: 'shorts'; index: number; valueIndex?: number };

/**
 * walkOptions reads argv's leading options with the command's spec: it stops at the first
 * argument that is neither an option nor an option's value, or at `--`, and returns that
 * index with the options before it. An option's value is never read as an option.
 */
export function walkOptions(argv: readonly string[], options: OptionSpec): { end: number; tokens: LeadingToken[] } {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (o.short) takesValue.add(`-${o.short}`);
  }
  const tokens: LeadingToken[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--' || !a.startsWith('-') || a === '-') return { end: i, tokens };
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      if (eq >= 0) tokens.push({ kind: 'option', name, index: i, value: { inline: true, index: i } });
      else if (takesValue.has(a) && i + 1 < argv.length) { tokens.push({ kind: 'option', name, index: i, value: { inline: false, index: i + 1 } }); i++; }
      else tokens.push({ kind: 'option', name, index: i });
      continue;
    }
    // A short cluster (-ti, -e K=V, -eK=V): the first value-taking letter eats the rest, or the next argument.
    let valueIndex: number | undefined;
    for (let j = 1; j < a.length; j++) {
      if (!takesValue.has(`-${a[j]}`)) continue;
      if (j === a.length - 1 && i + 1 < argv.length) valueIndex = ++i;
      break;
    }
    tokens.push({ kind: 'shorts', index: valueIndex === undefined ? i : i - 1, ...(valueIndex === undefined ? {} : { valueIndex }) });
  }
  return { end: argv.length, tokens };
}
