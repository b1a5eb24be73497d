import type { Flag } from './types.ts';
import type { Node } from './node.ts';
import type { Pos } from './cst.ts';
import { parseError } from './errors.ts';
import { suggest } from './suggest.ts';

/** FlagKind: a single string value, a repeatable string, or a boolean (`--x`, `--x=true`, `--x=false`). */
export type FlagKind = 'string' | 'strings' | 'bool';

/** FlagSpec lists the flags an instruction accepts. */
export type FlagSpec = Readonly<Record<string, FlagKind>>;

/** ParsedFlags holds validated flag values by name (names without the leading `--`). */
export class ParsedFlags {
  readonly raw: Flag[] = [];
  private readonly values = new Map<string, string[]>();
  private readonly positions = new Map<string, Pos>();

  /** add records a value (internal to parseFlags). */
  add(name: string, value: string, pos: Pos): void {
    const list = this.values.get(name) ?? [];
    list.push(value);
    this.values.set(name, list);
    this.positions.set(name, pos);
  }

  /** str is a string flag's value, if given. */
  str(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  /** list is every value of a repeatable flag, in order. */
  list(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  /** bool is a boolean flag's value, if given. */
  bool(name: string): boolean | undefined {
    const v = this.values.get(name)?.[0];
    return v === undefined ? undefined : v === 'true';
  }

  /** pos is where a flag was written (for errors about its value). */
  pos(name: string): Pos | undefined {
    return this.positions.get(name);
  }
}

/** splitFlag splits `--name=value` into name and value (null without `=`). */
export function splitFlag(text: string): Flag {
  const body = text.startsWith('--') ? text.slice(2) : text;
  const eq = body.indexOf('=');
  return eq < 0 ? { name: body, value: null } : { name: body.slice(0, eq), value: body.slice(eq + 1) };
}

/**
 * parseFlags validates a node's flags against spec: unknown flags, a value
 * missing or given where none fits, a repeated single flag, and a boolean
 * that is not true/false are errors located at the flag.
 */
export function parseFlags(node: Node, spec: FlagSpec, file: string): ParsedFlags {
  const out = new ParsedFlags();
  for (const f of node.flags) {
    const flag = splitFlag(f.text);
    out.raw.push(flag);
    const kind = spec[flag.name];
    const fail = (msg: string) => parseError('PARSE_FLAG', msg, file, f.pos);
    if (kind === undefined) {
      const hint = suggest(flag.name, Object.keys(spec));
      throw fail(`unknown flag: --${flag.name}${hint ? ` (did you mean --${hint}?)` : ''}`);
    }
    if (kind !== 'strings' && out.str(flag.name) !== undefined) throw fail(`duplicate flag specified: --${flag.name}`);
    if (kind === 'bool') {
      if (flag.value === '') throw fail(`missing a value on flag: --${flag.name}`);
      const v = (flag.value ?? 'true').toLowerCase();
      if (v !== 'true' && v !== 'false') throw fail(`expecting boolean value for flag --${flag.name}, not: ${flag.value}`);
      out.add(flag.name, v, f.pos);
      continue;
    }
    if (flag.value === null) throw fail(`missing a value on flag: --${flag.name}`);
    out.add(flag.name, flag.value, f.pos);
  }
  return out;
}
