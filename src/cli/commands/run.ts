import type { CliContext, Command, OptionSpec } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';
import { parseCommandArgs, parseKeyValues, walkOptions, withOptions } from '../args.ts';
import { requireRoot } from '../needsRoot.ts';
import { findImage } from '../../containers/findImage.ts';
import { openContainerDeps } from '../../containers/openContainerDeps.ts';
import { createContainer } from '../../containers/createContainer.ts';
import { startContainer } from '../../containers/startContainer.ts';
import { removeContainer } from '../../containers/removeContainer.ts';
import type { ContainerDeps } from '../../containers/deps.ts';
import type { ContainerView } from '../../containers/types.ts';
import { startDetached } from '../../containers/detach.ts';

const HELP = `usage: tsbuild run [OPTIONS] IMAGE [COMMAND] [ARG...]
       tsbuild container run [OPTIONS] IMAGE [COMMAND] [ARG...]

Create a container on a fresh layer over IMAGE and run a command in it, in the
foreground. The exit status is the container's. Without --rm the stopped
container and its changes stay (see 'tsbuild ps -a', 'tsbuild commit').

Options:
      --name NAME         name the container (default: a random adjective_name)
  -d, --detach            run in the background and print the container id
                          (output goes to the container's log file)
  -t, --tty               allocate a pseudo-terminal
  -i, --interactive       keep stdin attached
      --rm                remove the container when it exits
  -e, --env K=V           set an environment variable (K alone: take it from here; repeatable)
  -w, --workdir DIR       working directory inside the container
  -u, --user USER[:GROUP] user to run as (name or id)
      --network MODE      host (default) or none
      --entrypoint CMD    override the image's ENTRYPOINT ('' resets it)
      --runtime NAME      auto (default) or runc: containers run on runc

Examples:
  tsbuild run --rm busybox echo hello
  tsbuild run -ti --name box busybox sh
  tsbuild run -d --name web -e PORT=8080 app:1`;

const OPTIONS = {
  name: { type: 'string' },
  tty: { type: 'boolean', short: 't' },
  interactive: { type: 'boolean', short: 'i' },
  rm: { type: 'boolean' },
  detach: { type: 'boolean', short: 'd' },
  env: { type: 'string', short: 'e', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  network: { type: 'string' },
  entrypoint: { type: 'string' },
  runtime: { type: 'string' },
  help: { type: 'boolean' },
} as const;

/**
 * splitAtImage finds where run's options end: at the first argument that is
 * neither an option nor an option's value (or after `--`). Everything from
 * there is IMAGE and the container's own command, never parsed as ours.
 */
export function splitAtImage(argv: readonly string[], options: OptionSpec): { opts: string[]; rest: string[] } {
  const { end } = walkOptions(argv, options);
  return { opts: argv.slice(0, end), rest: argv.slice(argv[end] === '--' ? end + 1 : end) };
}

/** runCommand is `tsbuild run`: create a container from IMAGE and run it in the foreground. */
export const runCommand: Command = withOptions(OPTIONS, async (argv, ctx) => {
  const { opts, rest } = splitAtImage(argv, OPTIONS);
  const { values } = parseCommandArgs(ctx.command ?? 'run', opts, OPTIONS, false);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  const [ref, ...cmd] = rest;
  if (ref === undefined) throw new TsbuildError('USAGE', 'run: requires at least 1 argument (IMAGE)', { hint: "run 'tsbuild run --help'" });
  const network = values.network ?? 'host';
  if (network !== 'host' && network !== 'none' && network !== 'default') throw new TsbuildError('USAGE', `run: --network must be host or none, not "${network}"`);
  const runtime = containerRuntime('run', values.runtime);
  const tty = Boolean(values.tty);
  if (values.detach && (tty || values.interactive)) throw new TsbuildError('USAGE', 'run: -d cannot be combined with -t or -i (there is no terminal to attach)');
  if (tty && !ctx.stdin.isTTY) throw new TsbuildError('USAGE', 'the input device is not a TTY', { hint: 'drop -t, or run from a terminal' });
  const env = [...parseKeyValues(values.env, ctx.env, 'environment variable')].map(([k, v]) => `${k}=${v}`);
  requireRoot(ctx, 'run');
  const deps = await openContainerDeps(ctx.root, runtime);
  const img = await findImage(deps.store, ref);
  const c = await createContainer(deps, img, {
    ref,
    ...(values.name !== undefined ? { name: values.name } : {}),
    env,
    ...(values.workdir !== undefined ? { workdir: values.workdir } : {}),
    ...(values.user !== undefined ? { user: values.user } : {}),
    ...(values.entrypoint !== undefined ? { entrypoint: values.entrypoint } : {}),
    cmd,
    host: { network: network === 'none' ? 'none' : 'host', tty, interactive: Boolean(values.interactive), autoRemove: Boolean(values.rm) },
  });
  // Base layers extracted for it are made durable behind us (their markers go once synced).
  await deps.snapshotter.sync();
  if (values.detach) {
    await startDetached(superviseArgv(ctx, c.id, runtime), c, deps.containers, ctx.env);
    ctx.stdout.write(`${c.id}\n`);
    return 0;
  }
  return runAttached(deps, c, ctx);
});

/**
 * runAttached runs c in this process's foreground and returns its exit status;
 * with --rm (the container's autoRemove) it is removed afterwards, unless an
 * `rm -f` elsewhere did that already.
 */
async function runAttached(deps: ContainerDeps, c: ContainerView, ctx: CliContext): Promise<number> {
  try {
    // A terminal needs all three streams; otherwise stdin is attached only with -i (as Docker).
    const stdin = c.hostConfig.tty || c.hostConfig.interactive ? 'inherit' : 'ignore';
    const status = await startContainer(deps, c, { stdin, stdout: 'inherit', stderr: 'inherit' }, ctx.signal);
    return status.exitCode;
  } finally {
    if (c.hostConfig.autoRemove) {
      const now = await deps.containers.resolve(c.id).catch(() => undefined);
      if (now) await removeContainer(deps, now, { force: true });
    }
  }
}

/** containerRuntime checks --runtime for containers: auto or runc (the unshare executor cannot attach them). */
function containerRuntime(cmd: string, value: string | undefined): 'auto' | 'runc' {
  const runtime = value ?? 'auto';
  if (runtime === 'auto' || runtime === 'runc') return runtime;
  const hint = runtime === 'unshare' ? { hint: 'the unshare executor runs build steps only: it cannot attach a container to stdin, a terminal or output' } : {};
  throw new TsbuildError('USAGE', `${cmd}: --runtime must be auto or runc, not "${runtime}"`, hint);
}

/** superviseArgv is the tsbuild invocation that supervises a detached container: `container start -a ID`. */
function superviseArgv(ctx: CliContext, id: string, runtime: string): string[] {
  return [process.execPath, process.argv[1]!, '--root', ctx.root, 'container', 'start', '--attach', '--runtime', runtime, id];
}

const START_HELP = `usage: tsbuild container start [OPTIONS] CONTAINER

Start a stopped container again: its command runs once more on its own layer.

Options:
  -a, --attach        run in the foreground (exit status is the container's;
                      default: in the background)
      --runtime NAME  auto (default) or runc: containers run on runc

Examples:
  tsbuild container start box
  tsbuild container start -a box`;

const START_OPTIONS = {
  attach: { type: 'boolean', short: 'a' },
  runtime: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** startCommand is `tsbuild container start`: in the background, or in the foreground with -a. */
export const startCommand: Command = withOptions(START_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'container start', argv, START_OPTIONS);
  if (values.help) { ctx.stdout.write(START_HELP + '\n'); return 0; }
  if (positionals.length !== 1) throw new TsbuildError('USAGE', `container start: requires exactly 1 argument (CONTAINER), got ${positionals.length}`);
  const runtime = containerRuntime('container start', values.runtime);
  requireRoot(ctx, 'container start');
  const deps = await openContainerDeps(ctx.root, runtime);
  const c = await deps.containers.resolve(positionals[0]!);
  if (values.attach) return runAttached(deps, c, ctx);
  if (c.state.status !== 'running') await startDetached(superviseArgv(ctx, c.id, runtime), c, deps.containers, ctx.env);
  ctx.stdout.write(`${positionals[0]}\n`);
  return 0;
});
