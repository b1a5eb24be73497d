import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CliContext, Command } from './context.ts';
import { TsbuildError } from '../core/errors.ts';
import { renderError } from '../ui/renderError.ts';
import { useColor } from '../ui/colors.ts';
import { deferExtraCaCerts } from '../sys/tlsTrust.ts';
import { takeCommandRoot, takeGlobalRoot } from './globalRoot.ts';
import { leaveAll } from '../store/liveness.ts';
import { suggest } from '../parser/suggest.ts';
import { unknownFlag } from './args.ts';
import { asNeedsRoot } from './needsRoot.ts';

/** Each command is imported only when used, so a cached build loads nothing it does not need. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  parse: async () => (await import('./commands/parse.ts')).parseCommand,
  import: async () => (await import('./commands/import.ts')).importCommand,
  build: async () => (await import('./commands/build.ts')).buildCommand,
  pull: async () => (await import('./commands/pull.ts')).pullCommand,
  push: async () => (await import('./commands/push.ts')).pushCommand,
  login: async () => (await import('./commands/login.ts')).loginCommand,
  logout: async () => (await import('./commands/login.ts')).logoutCommand,
  save: async () => (await import('./commands/save.ts')).saveCommand,
  load: async () => (await import('./commands/load.ts')).loadCommand,
  run: async () => (await import('./commands/run.ts')).runCommand,
  container: async () => (await import('./commands/ps.ts')).containerCommand,
  commit: async () => (await import('./commands/commit.ts')).commitCommand,
  image: async () => (await import('./commands/images.ts')).imageCommand,
  history: async () => (await import('./commands/history.ts')).historyCommand,
  ps: async () => (await import('./commands/ps.ts')).psCommand,
  rm: async () => (await import('./commands/rm.ts')).rmCommand,
  images: async () => (await import('./commands/images.ts')).imagesCommand,
  rmi: async () => (await import('./commands/rmi.ts')).rmiCommand,
  tag: async () => (await import('./commands/tag.ts')).tagCommand,
  inspect: async () => (await import('./commands/inspect.ts')).inspectCommand,
  fsck: async () => (await import('./commands/fsck.ts')).fsckCommand,
};

const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<NodeJS.Signals, number>;

/**
 * interrupt is aborted by the first SIGINT, SIGTERM or SIGHUP (a closed terminal cleans up
 * like Ctrl-C): commands stop their work and clean up (no container or mount is left behind),
 * and whatever they then throw, the user sees one line, `interrupted`, and the exit status
 * is the shell's for that signal (130, 143, 129). A second signal exits at once; the next
 * command cleans what that leaves. Helper processes run in sessions of their own (sys/), so
 * a signal to our whole process group (a terminal's Ctrl-C) reaches tsbuild alone.
 */
const interrupt = new AbortController();
let interruptedWith = 0;

function onSignal(sig: NodeJS.Signals): void {
  if (interrupt.signal.aborted) process.exit(interruptedWith);
  interruptedWith = 128 + SIGNAL_NUMBERS[sig]!;
  interrupt.abort(new TsbuildError('INTERRUPTED', 'interrupted', { exitCode: interruptedWith }));
}

const ALIASES: Record<string, string> = {};

const USAGE = `usage: tsbuild [--root DIR] COMMAND [ARGS]

Options:
  --root DIR   the store (default: $TSBUILD_ROOT; else for root /var/lib/tsbuild,
               for others $XDG_DATA_HOME/tsbuild, else ~/.local/share/tsbuild)

Commands:
  build      build an image from a Buildfile (also: tsbuild -f Buildfile -t NAME .)
  parse      check a Buildfile and print its instructions
  import     make a base image from a root filesystem tarball
  pull       pull an image from a registry
  push       push an image to a registry
  login      store credentials for a registry (logout removes them)
  save       write images to a docker-archive or OCI archive
  load       read images from a docker-archive or OCI archive
  run        run a command in a new container from an image
  commit     make an image from a container's changes (also: container commit)
  ps         list containers (also: container ls)
  rm         remove containers (also: container rm)
  images     list images (also: image ls)
  history    show the history of an image (also: image history)
  rmi        remove images (also: image rm)
  tag        give an image another name (also: image tag)
  inspect    print details of containers and images as JSON
  container  manage containers: run, start, commit, ls, rm, inspect
  image      manage images: history, ls, rm, tag, inspect
  fsck       check the store for damage and repair it
  help       show a command's help (tsbuild help build)

Examples:
  tsbuild build -t app:1 .
  tsbuild run --rm app:1
  tsbuild images

Run 'tsbuild help COMMAND' (or 'tsbuild COMMAND --help') for a command's options.`;

function defaultRoot(env: Record<string, string | undefined>): string {
  if (env.TSBUILD_ROOT) return env.TSBUILD_ROOT;
  if (process.getuid?.() === 0) return '/var/lib/tsbuild';
  return join(env.XDG_DATA_HOME || join(homedir(), '.local/share'), 'tsbuild');
}

/**
 * takeDeferredCaCerts: bin/tsbuild.mjs starts Node without NODE_EXTRA_CA_CERTS, whose
 * parsing Node 20 does before any JavaScript runs (~90 ms), and passes the path as
 * TSBUILD_NODE_EXTRA_CA_CERTS. The first TLS client loads it (sys/tlsTrust.ts); child
 * processes get NODE_EXTRA_CA_CERTS back.
 */
function takeDeferredCaCerts(): void {
  const file = process.env.TSBUILD_NODE_EXTRA_CA_CERTS;
  if (file === undefined) return;
  delete process.env.TSBUILD_NODE_EXTRA_CA_CERTS;
  if (file === '') return;
  deferExtraCaCerts(file);
  process.env.NODE_EXTRA_CA_CERTS = file;
}

/** GLOBAL_OPTIONS are the options before the command word. */
const GLOBAL_OPTIONS = { root: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } } as const;

/**
 * leadingFlag reads a command line that starts with a flag: one of build's makes it `build`
 * (`tsbuild -f Buildfile -t app .`); any other is a mistake, reported against the command typed
 * after it if there is one (`tsbuild --rot x images`), with the likely flag.
 */
async function leadingFlag(flag: string, args: string[]): Promise<[string, string[]]> {
  const build = await COMMANDS.build!();
  const raw = flag.startsWith('--') ? flag.split('=')[0]! : flag.slice(0, 2);
  const isBuildFlag = Object.entries(build.options ?? {}).some(([n, o]) => raw === `--${n}` || raw === `-${o.short}`);
  if (isBuildFlag) return ['build', [flag, ...args]];
  const typed = args.find((a) => a in COMMANDS || a in ALIASES);
  const spec = { ...GLOBAL_OPTIONS, ...(typed ? (await COMMANDS[ALIASES[typed] ?? typed]!()).options : build.options) };
  throw new TsbuildError('USAGE', `${typed ? `${typed}: ` : ''}${unknownFlag(raw, spec)}`, { hint: `run 'tsbuild --help'${typed ? ` or 'tsbuild ${typed} --help'` : ''}` });
}

async function main(): Promise<number> {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  takeDeferredCaCerts();
  const env = { ...process.env };
  const global = takeGlobalRoot(process.argv.slice(2));
  let [name, ...args] = global.rest;
  // `tsbuild help build` is `tsbuild build --help` (`help container run` too).
  if (name === 'help' && args.length > 0) [name, args] = [args[0]!, [...args.slice(1), '--help']];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE + '\n');
    return name === undefined ? 1 : 0;
  }
  if (name === '--version') { process.stdout.write('tsbuild 0.1.0\n'); return 0; }
  // `tsbuild -f Buildfile .` is `tsbuild build -f Buildfile .`
  if (name.startsWith('-')) [name, args] = await leadingFlag(name, args);
  if (!(name in COMMANDS || name in ALIASES)) {
    const hint = suggest(name, [...Object.keys(COMMANDS), ...Object.keys(ALIASES)]);
    throw new TsbuildError('USAGE', `unknown command "${name}"${hint ? ` (did you mean ${hint}?)` : ''}`, { hint: "run 'tsbuild --help'" });
  }
  const cmd = await COMMANDS[ALIASES[name] ?? name]!();
  // --root is global before the command word, or among the command's own leading options.
  const own = await takeCommandRoot(cmd, args);
  const root = own.root ?? global.root;
  const ctx: CliContext = {
    root: resolve(root ?? defaultRoot(env)),
    env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    // A terminal with no size (a pty nobody set up, e.g. `script` run without a terminal)
    // gets plain lines: ora divides by its width of 0 and would clear lines forever; so
    // does one that cannot move its cursor (TERM=dumb).
    isTTY: Boolean(process.stderr.isTTY) && !env.CI && (process.stderr.columns ?? 0) > 0 && env.TERM !== 'dumb',
    color: useColor(env, Boolean(process.stderr.isTTY)),
    signal: interrupt.signal,
    command: name,
    uid: process.getuid?.() ?? 0,
  };
  return cmd(own.rest, ctx).catch((e: unknown) => { throw asNeedsRoot(e, ctx); });
}

// The liveness sockets this process listened on (store/liveness.ts): process.exit leaves them.
process.on('exit', leaveAll);

main().then(
  // Exit at once: the build's work is done and awaited (stdout and stderr writes are
  // synchronous on Linux for files, pipes and terminals), and letting the event loop
  // wind down first also tears the heap down, ~50 ms after a build of a big context.
  (code) => { process.exitCode = code; if (process.platform === 'linux') process.exit(code); },
  (err: unknown) => {
    // Interrupted, whatever failed next (a step, a download, a helper) failed because of it.
    if (interrupt.signal.aborted) {
      process.stderr.write('interrupted\n');
      process.exitCode = interruptedWith;
      return;
    }
    process.stderr.write(renderError(err, { debug: Boolean(process.env.TSBUILD_DEBUG), color: useColor(process.env, Boolean(process.stderr.isTTY)) }) + '\n');
    process.exitCode = err instanceof TsbuildError ? err.exitCode : 1;
  },
);
