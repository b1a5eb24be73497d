import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { CliContext, Command } from '../context.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { TsbuildError, isErrno } from '../../core/errors.ts';
import { formatLocation } from '../../core/range.ts';
import { decodeBuildfile } from '../../parser/decodeBuildfile.ts';
import { escapeText } from '../../ui/escapeText.ts';
import type { ParseWarning } from '../../parser/types.ts';

const USAGE = `usage: tsbuild parse [-f FILE] [--dump | --json]

Check a Buildfile and report the first error as FILE:LINE:COL: message.

Options:
  -f, --file FILE  the Buildfile (default: ./Buildfile, else ./Dockerfile; - reads stdin)
      --dump       print the syntax tree in the BuildKit parser's test format
                   (syntax only: instruction-level checks such as flags are skipped)
      --json       print the parsed instructions, directives and warnings as JSON
                   (default: one line per instruction)

Examples:
  tsbuild parse
  tsbuild parse -f docker/Dockerfile --json
  tsbuild parse -f - < Buildfile`;

const STDIN_NAME = '<stdin>';

const PARSE_OPTIONS = { file: { type: 'string', short: 'f' }, dump: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

/** ParseOptions are the parse command's options after argv parsing. */
interface ParseOptions { file: string | undefined; dump: boolean; json: boolean; help: boolean }

function options(argv: string[], command: string): ParseOptions {
  const parsed = parseCommandArgs(command, argv, PARSE_OPTIONS, false);
  const v = parsed.values;
  if (v.dump && v.json) throw new TsbuildError('USAGE', 'parse: --dump and --json cannot be used together');
  return { file: v.file, dump: v.dump ?? false, json: v.json ?? false, help: v.help ?? false };
}

async function readStdin(ctx: CliContext): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of ctx.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/** readBuildfile finds and reads the Buildfile (as UTF-8, see decodeBuildfile); name is the file as given, used in every message. */
async function readBuildfile(file: string | undefined, ctx: CliContext): Promise<{ name: string; text: string }> {
  if (file === '-') return { name: STDIN_NAME, text: decodeBuildfile(await readStdin(ctx), STDIN_NAME) };
  const name = file ?? (existsSync('Buildfile') || !existsSync('Dockerfile') ? 'Buildfile' : 'Dockerfile');
  let bytes: Buffer;
  try {
    bytes = await readFile(name);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw new TsbuildError('IO', `${name}: no such file${file === undefined ? ' (and no Dockerfile either)' : ''}`);
    if (isErrno(e, 'EISDIR')) throw new TsbuildError('IO', `${name}: is a directory`);
    throw new TsbuildError('IO', `${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return { name, text: decodeBuildfile(bytes, name) };
}

function printWarnings(ctx: CliContext, warnings: ParseWarning[]): void {
  for (const w of warnings) ctx.stderr.write(`warning: ${escapeText(`${formatLocation(w.range)}: ${w.message}`)}\n`);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * parseCommand checks a Buildfile: a one-line summary (warnings on stderr),
 * the reference-format syntax tree (--dump) or the instructions as JSON
 * (--json). Any error propagates as a located TsbuildError, which main.ts
 * prints as one line and exits 1.
 */
export const parseCommand: Command = withOptions(PARSE_OPTIONS, async (argv, ctx) => {
  const opts = options(argv, ctx.command ?? 'parse');
  if (opts.help) { ctx.stdout.write(USAGE + '\n'); return 0; }
  const { name, text } = await readBuildfile(opts.file, ctx);
  const parser = await import('../../parser/index.ts');
  if (opts.dump) {
    const { tree, warnings } = parser.parseTree(text, name);
    printWarnings(ctx, warnings);
    ctx.stdout.write(parser.dumpTree(tree));
    return 0;
  }
  const result = parser.parseBuildfile(text, name);
  printWarnings(ctx, result.warnings);
  if (opts.json) {
    ctx.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return 0;
  }
  const stages = result.instructions.filter((i) => i.kind === 'FROM').length;
  ctx.stdout.write(`${escapeText(name)}: ${plural(result.instructions.length, 'instruction')}, ${plural(stages, 'stage')}\n`);
  return 0;
});
