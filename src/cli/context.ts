/** CliContext is everything a command may know about its invocation; built once in main.ts from argv/env. */
export interface CliContext {
  /** Store root: --root, else $TSBUILD_ROOT, else /var/lib/tsbuild (root) or $XDG_DATA_HOME/tsbuild. */
  root: string;
  /** A copy of the process environment (commands never read process.env themselves). */
  env: Readonly<Record<string, string | undefined>>;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  /** stderr is a terminal whose lines can be redrawn (a size, TERM not dumb) and not CI: --progress=auto shows the spinner. */
  isTTY: boolean;
  /** stderr gets colours (ui/colors.ts useColor: a terminal, NO_COLOR, FORCE_COLOR); absent: none. */
  color?: boolean;
  /** Aborted on SIGINT/SIGTERM: long work must stop and clean up. */
  signal: AbortSignal;
  /** The process's user id (absent: not known, taken for root). */
  uid?: number;
  /** The command as typed (`images`, `image ls`), for usage errors; absent: the command's own name. */
  command?: string;
}

/** OptionSpec is a command's options, as util.parseArgs takes them. */
export type OptionSpec = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string; readonly multiple?: boolean }>>;

/**
 * Command runs one subcommand with its own argv (global options already removed) and returns
 * the exit status. Its option spec, when attached (withOptions), tells main where its leading
 * options end, so a global --root is found among them and never in its arguments; a group
 * (`image`, `container`) lists its subcommands for the same purpose.
 */
export interface Command {
  (argv: string[], ctx: CliContext): Promise<number>;
  readonly options?: OptionSpec;
  readonly subcommands?: Readonly<Record<string, () => Promise<Command>>>;
}
