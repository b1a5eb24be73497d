import type { Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { openStore } from '../../store/openStore.ts';
import { ContainerStore } from '../../containers/ContainerStore.ts';
import { PS_HEADERS, imageLabel, psRow } from '../../containers/psRows.ts';
import { listTaggedImages } from '../../containers/imageViews.ts';
import { shortId } from '../../containers/format/humanize.ts';
import { parseTemplate } from '../../containers/format/template.ts';
import { groupCommand } from './images.ts';

const HELP = `usage: tsbuild ps [OPTIONS]
       tsbuild container ls [OPTIONS]

List containers (running ones, or all with -a), newest first.

Options:
  -a, --all            show all containers (default: running only)
  -q, --quiet          only show container ids
      --no-trunc       do not truncate ids and commands
      --format FORMAT  Go-template subset, e.g. '{{.Names}} {{.Status}}' or '{{json .}}'
                       fields: ID, Image, Command, CreatedAt, RunningFor, Ports, State, Status, Names
                       (default: a table of CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES)

Examples:
  tsbuild ps
  tsbuild ps -a
  tsbuild ps -a --format '{{.Names}} {{.Status}}'`;

const DEFAULT_FORMAT = 'table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}';

const PS_OPTIONS = {
  all: { type: 'boolean', short: 'a' },
  quiet: { type: 'boolean', short: 'q' },
  'no-trunc': { type: 'boolean' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** psCommand is `tsbuild ps` / `tsbuild container ls`. */
export const psCommand: Command = withOptions(PS_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'ps', argv, PS_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 0) throw new TsbuildError('USAGE', `ps: accepts no arguments, got "${positionals[0]}"`);
  const template = parseTemplate(values.format ?? DEFAULT_FORMAT, PS_HEADERS);
  const store = await openStore(ctx.root);
  const containers = new ContainerStore(store);
  const list = (await containers.list()).filter((c) => values.all || c.state.status === 'running');
  if (values.quiet) {
    ctx.stdout.write(list.map((c) => `${values['no-trunc'] ? c.id : shortId(c.id)}\n`).join(''));
    return 0;
  }
  const tags = new Map((await listTaggedImages(store)).map((t) => [t.name, t.image.id as string]));
  const now = new Date();
  ctx.stdout.write(template.render(list.map((c) => psRow(c, now, Boolean(values['no-trunc']), imageLabel(c, tags)))));
  return 0;
});

/** containerCommand is `tsbuild container SUB`: run, start, commit, ls, rm, inspect. */
export const containerCommand: Command = groupCommand('container', {
  summary: 'Manage containers.',
  examples: ['tsbuild container run --name box busybox echo hello', 'tsbuild container ls -a', 'tsbuild container rm box'],
}, {
  run: { load: async () => (await import('./run.ts')).runCommand, summary: 'run a command in a new container from an image' },
  start: { load: async () => (await import('./run.ts')).startCommand, summary: 'start a stopped container again' },
  commit: { load: async () => (await import('./commit.ts')).commitCommand, summary: "make an image from a container's changes" },
  ls: { load: async () => psCommand, summary: 'list containers', aliases: ['list', 'ps'] },
  inspect: { load: async () => (await import('./inspect.ts')).containerInspectCommand, summary: 'print details of containers as JSON' },
  rm: { load: async () => (await import('./rm.ts')).rmCommand, summary: 'remove containers' },
});
