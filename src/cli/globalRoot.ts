import { TsbuildError } from '../core/errors.ts';
import { walkOptions } from './args.ts';
import type { Command, OptionSpec } from './context.ts';

/** RootSplit is an argument list with the global --root taken out of it. */
export interface RootSplit {
  root: string | undefined;
  rest: string[];
}

/**
 * takeGlobalRoot takes --root DIR / --root=DIR from the front of argv, before the command
 * word (tsbuild's only global option that takes a value). It stops at anything else.
 */
export function takeGlobalRoot(argv: readonly string[]): RootSplit {
  let root: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--root=')) root = a.slice('--root='.length);
    else if (a === '--root') root = rootValue(argv[++i]);
    else break;
  }
  return { root, rest: argv.slice(i) };
}

/**
 * takeLeadingRoot takes --root from the leading options of a command's argv, read with the
 * command's own spec (so `-t x` is an option and its value): never after its first positional
 * argument or `--`, where a container command's own `--root` belongs to that command (as
 * Docker's CLI stops reading its flags at `run IMAGE`). Without a spec, every option is taken
 * for a flag: the options end at the first argument that does not start with `-`.
 */
export function takeLeadingRoot(argv: readonly string[], options: OptionSpec | undefined): RootSplit {
  const { tokens } = walkOptions(argv, { ...options, root: { type: 'string' } });
  const drop = new Set<number>();
  let root: string | undefined;
  for (const t of tokens) {
    if (t.kind !== 'option' || t.name !== '--root') continue;
    if (!t.value) throw new TsbuildError('USAGE', '--root needs a directory');
    root = t.value.inline ? argv[t.index]!.slice('--root='.length) : rootValue(argv[t.value.index]);
    drop.add(t.index).add(t.value.index);
  }
  return { root, rest: argv.filter((_, i) => !drop.has(i)) };
}

/**
 * takeCommandRoot is takeLeadingRoot for a loaded command; for a group (`container run …`)
 * also among the subcommand's leading options, after its word. The last --root wins.
 */
export async function takeCommandRoot(cmd: Command, argv: readonly string[]): Promise<RootSplit> {
  const own = takeLeadingRoot(argv, cmd.options);
  if (!cmd.subcommands) return own;
  const at = walkOptions(own.rest, { ...cmd.options }).end;
  const load = cmd.subcommands[own.rest[at] ?? ''];
  if (!load || own.rest[at] === '--') return own;
  const sub = await takeCommandRoot(await load(), own.rest.slice(at + 1));
  return { root: sub.root ?? own.root, rest: [...own.rest.slice(0, at + 1), ...sub.rest] };
}

function rootValue(v: string | undefined): string {
  if (v === undefined) throw new TsbuildError('USAGE', '--root needs a directory');
  return v;
}
