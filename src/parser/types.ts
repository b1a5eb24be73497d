import type { SourceRange } from '../core/range.ts';

/** Heredoc is one `<<NAME` body attached to a RUN, COPY or ADD. */
export interface Heredoc {
  /** The delimiter with quotes removed (`<<"EOF"` → `EOF`). */
  name: string;
  /** The body, verbatim, each line with its newline; the terminator line excluded. Leading tabs kept even for `<<-`. */
  content: string;
  /** false when any part of the delimiter was quoted: no variable expansion in the body. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from body lines when used. */
  chomp: boolean;
  /** A file-descriptor prefix (`3<<EOF`), if any. */
  fd?: number;
}

/** CommandLine is shell form (run through the image's SHELL) or exec form (a JSON array). */
export type CommandLine = { form: 'shell'; command: string } | { form: 'exec'; args: string[] };

/** Flag is one `--name[=value]` as written (value null when there is no `=`). */
export interface Flag {
  name: string;
  value: string | null;
}

/** KeyValue is one ENV/LABEL pair; key and value are raw (quotes and escapes kept, unexpanded). */
export interface KeyValue {
  key: string;
  value: string;
}

/** ArgDecl is one ARG name with its optional raw default. */
export interface ArgDecl {
  key: string;
  value?: string;
}

/** Base fields every instruction has. */
interface Base {
  /** The keyword as written (`Run`, `from`). */
  keyword: string;
  range: SourceRange;
  /** The whole instruction as one logical line (continuations joined), for history and messages. */
  original: string;
  /** All flags as written, in order (validated per instruction). */
  flags: Flag[];
}

/** FROM [--platform=P] image [AS name]: image raw (may hold ARGs); stageName lower-cased. */
export interface FromInstruction extends Base { kind: 'FROM'; image: string; stageName?: string; platform?: string }
/** RUN [--mount=...] [--network=...] [--security=...] command, shell/exec form or heredocs. */
export interface RunInstruction extends Base {
  kind: 'RUN';
  cmd: CommandLine;
  heredocs: Heredoc[];
  /** Raw values of each --mount flag (`type=cache,target=/root/.cache`). */
  mounts: string[];
  network?: string;
  security?: string;
}
/** CMD: the default command (shell form runs through SHELL). */
export interface CmdInstruction extends Base { kind: 'CMD'; cmd: CommandLine }
/** ENTRYPOINT: the image entrypoint. */
export interface EntrypointInstruction extends Base { kind: 'ENTRYPOINT'; cmd: CommandLine }
/** SHELL ["exe", "args"...]: the shell for later shell-form commands (JSON form only). */
export interface ShellInstruction extends Base { kind: 'SHELL'; args: string[] }
/** ENV key=value... (or legacy `ENV key value`): values raw, expanded by the planner. */
export interface EnvInstruction extends Base { kind: 'ENV'; pairs: KeyValue[] }
/** LABEL key=value... (or legacy `LABEL key value`): keys and values raw. */
export interface LabelInstruction extends Base { kind: 'LABEL'; pairs: KeyValue[] }
/** ARG name[=default]...: defaults raw. */
export interface ArgInstruction extends Base { kind: 'ARG'; args: ArgDecl[] }
/** COPY/ADD [flags] src... dest: sources and dest raw; heredoc sources written `<<NAME`. */
export interface CopyInstruction extends Base {
  kind: 'COPY' | 'ADD';
  /** Raw source strings (unexpanded); with heredocs, a source may be `<<NAME`. */
  sources: string[];
  dest: string;
  heredocs: Heredoc[];
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
  /** ADD only. */
  checksum?: string;
  keepGitDir?: boolean;
  /** ADD only: `--unpack` given explicitly (absent: archives from the context are unpacked, URLs are not). */
  unpack?: boolean;
}
/** EXPOSE port[/proto]...: raw (may hold variables). */
export interface ExposeInstruction extends Base { kind: 'EXPOSE'; ports: string[] }
/** VOLUME path... or VOLUME ["path"...]. */
export interface VolumeInstruction extends Base { kind: 'VOLUME'; paths: string[] }
/** USER user[:group]. */
export interface UserInstruction extends Base { kind: 'USER'; user: string }
/** WORKDIR path. */
export interface WorkdirInstruction extends Base { kind: 'WORKDIR'; path: string }
/** STOPSIGNAL signal. */
export interface StopsignalInstruction extends Base { kind: 'STOPSIGNAL'; signal: string }
/** MAINTAINER name (deprecated; kept for history). */
export interface MaintainerInstruction extends Base { kind: 'MAINTAINER'; name: string }
/** ONBUILD trigger: stored in the image config, run in child builds. */
export interface OnbuildInstruction extends Base {
  kind: 'ONBUILD';
  /** The trigger text as stored in the image config's OnBuild list (`RUN echo hi`). */
  expression: string;
  trigger: Instruction;
}
/** HEALTHCHECK: `NONE` disables an inherited check; durations are nanoseconds. */
export type HealthcheckInstruction = Base & { kind: 'HEALTHCHECK' } & (
  | { test: 'NONE' }
  | { test: 'CMD'; cmd: CommandLine; interval?: number; timeout?: number; startPeriod?: number; startInterval?: number; retries?: number }
);

/** Instruction is one parsed Buildfile instruction, discriminated by kind. */
export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | EnvInstruction
  | LabelInstruction
  | ArgInstruction
  | CopyInstruction
  | ExposeInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | StopsignalInstruction
  | MaintainerInstruction
  | OnbuildInstruction
  | HealthcheckInstruction;

/** Directives are the parser directives found at the top of the file. */
export interface Directives {
  escape: '\\' | '`';
  syntax?: string;
  check?: string;
}

/** ParseWarning is a non-fatal finding (e.g. an empty continuation line). */
export interface ParseWarning {
  message: string;
  range: SourceRange;
}

/** ParseResult is a parsed Buildfile. */
export interface ParseResult {
  instructions: Instruction[];
  directives: Directives;
  warnings: ParseWarning[];
}
