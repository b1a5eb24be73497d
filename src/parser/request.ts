import type { SourceRange } from '../core/range.ts';
import type { Pos } from './cst.ts';
import type { Node } from './node.ts';
import type { CommandLine, Flag } from './types.ts';
import { parseError } from './errors.ts';
import { parseFlags, type FlagSpec, type ParsedFlags } from './flags.ts';
import type { TsbuildError } from '../core/errors.ts';

/** Arg is one string argument with its position. */
export interface Arg {
  value: string;
  pos: Pos;
}

/**
 * Request is what every instruction builder gets (buildkit's parseRequest):
 * the node, its string arguments and helpers for located errors.
 */
export class Request {
  readonly name: string;
  readonly args: Arg[];
  readonly range: SourceRange;

  constructor(readonly node: Node, readonly file: string) {
    this.name = node.keyword.toUpperCase();
    this.args = node.items.flatMap((i) => (i.kind === 'string' ? [{ value: i.value, pos: i.pos }] : []));
    this.range = {
      file,
      startLine: node.startLine,
      startCol: node.pos.line === node.startLine ? node.pos.col : 1,
      endLine: node.endLine,
      endCol: node.endCol,
    };
  }

  /** base is the fields every instruction has. */
  base(flags: Flag[]): { keyword: string; range: SourceRange; original: string; flags: Flag[] } {
    return { keyword: this.node.keyword, range: this.range, original: this.node.original, flags };
  }

  /** flags validates the node's flags against spec. */
  flags(spec: FlagSpec): ParsedFlags {
    return parseFlags(this.node, spec, this.file);
  }

  /** error is a PARSE_SYNTAX error at pos (default: the keyword). */
  error(message: string, pos: Pos = this.node.pos): TsbuildError {
    return parseError('PARSE_SYNTAX', message, this.file, pos);
  }

  /** flagError is a PARSE_FLAG error about a flag's value, at the flag. */
  flagError(message: string, pos: Pos | undefined): TsbuildError {
    return parseError('PARSE_FLAG', message, this.file, pos ?? this.node.pos);
  }

  /** atLeastOne fails unless there is at least one argument. */
  atLeastOne(): void {
    if (this.args.length === 0) throw this.error(`${this.name} requires at least one argument`, this.node.argsPos);
  }

  /** exactlyOne returns the single argument, or fails. */
  exactlyOne(): Arg {
    if (this.args.length !== 1) throw this.error(`${this.name} requires exactly one argument`, this.args[1]?.pos ?? this.node.argsPos);
    return this.args[0]!;
  }

  /** commandLine is the exec form (JSON) or the shell form of the arguments from index `from` on. */
  commandLine(from = 0): CommandLine {
    const values = this.args.slice(from).map((a) => a.value);
    return this.node.json ? { form: 'exec', args: values } : { form: 'shell', command: values[0] ?? '' };
  }
}
