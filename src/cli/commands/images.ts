import type { CliContext, Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { openStore } from '../../store/openStore.ts';
import { imageSize, listImages } from '../../containers/imageViews.ts';
import { humanSize, shortId, since } from '../../containers/format/humanize.ts';
import { parseTemplate } from '../../containers/format/template.ts';
import { suggest } from '../../parser/suggest.ts';

const HELP = `usage: tsbuild images [OPTIONS] [REPOSITORY[:TAG]]
       tsbuild image ls [OPTIONS] [REPOSITORY[:TAG]]

List images: one row per name, and untagged images (kept by id) as <none> <none>.

Options:
  -q, --quiet          only show image ids
      --no-trunc       show full image ids
      --format FORMAT  Go-template subset, e.g. 'table {{.Repository}}\\t{{.ID}}' or '{{json .}}'
                       fields: Repository, Tag, ID, CreatedSince, CreatedAt, Size, Digest
                       (default: a table of REPOSITORY, TAG, IMAGE ID, CREATED, SIZE)

Examples:
  tsbuild images
  tsbuild images app
  tsbuild images -q`;

const HEADERS = { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE', Digest: 'DIGEST' };
const DEFAULT_FORMAT = 'table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}';

const IMAGES_OPTIONS = {
  quiet: { type: 'boolean', short: 'q' },
  'no-trunc': { type: 'boolean' },
  format: { type: 'string' },
  all: { type: 'boolean', short: 'a' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** imagesCommand is `tsbuild images` / `tsbuild image ls`: one row per name (untagged images as `<none>`), newest image first. */
export const imagesCommand: Command = withOptions(IMAGES_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'images', argv, IMAGES_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 1) throw new TsbuildError('USAGE', `images: expected at most one REPOSITORY[:TAG], got ${positionals.length}`);
  const template = parseTemplate(values.format ?? DEFAULT_FORMAT, HEADERS);
  const store = await openStore(ctx.root);
  let images = await listImages(store);
  const filter = positionals[0];
  if (filter !== undefined) images = images.filter((i) => i.name !== undefined && (i.repository === filter || i.name === filter || `${i.repository}:${i.tag}` === filter));
  images.sort((a, b) => (b.image.config.created ?? '').localeCompare(a.image.config.created ?? '') || (a.name ?? '').localeCompare(b.name ?? ''));
  if (values.quiet) {
    const ids = [...new Set(images.map((i) => (values['no-trunc'] ? i.image.id : shortId(i.image.id))))];
    ctx.stdout.write(ids.map((id) => `${id}\n`).join(''));
    return 0;
  }
  const now = new Date();
  const rows = await Promise.all(images.map(async (i) => ({
    Repository: i.repository,
    Tag: i.tag,
    ID: values['no-trunc'] ? i.image.id : shortId(i.image.id),
    CreatedSince: since(i.image.config.created, now) || 'N/A',
    CreatedAt: i.image.config.created ?? '',
    Size: humanSize(await imageSize(store, i.image)),
    Digest: i.image.manifestDesc.digest,
  })));
  ctx.stdout.write(template.render(rows));
  return 0;
});

/** Subcommand is one command of a group: how to load it, one line saying what it does, its other names. */
export interface Subcommand {
  readonly load: () => Promise<Command>;
  readonly summary: string;
  readonly aliases?: readonly string[];
}

/** GroupHelp is a group's help beyond its list of commands: what it manages, and examples. */
export interface GroupHelp {
  readonly summary: string;
  readonly examples: readonly string[];
}

/**
 * groupCommand dispatches `tsbuild GROUP SUB ARGS…` (`image ls`, `container rm`) to the
 * subcommand, as Docker's management commands do; alone, or with --help, it lists its commands
 * with what each does. A subcommand sees itself named as typed (`image ls`) in its usage errors.
 */
export function groupCommand(group: string, help: GroupHelp, subs: Readonly<Record<string, Subcommand>>): Command {
  const loaders: Record<string, () => Promise<Command>> = {};
  for (const [name, sub] of Object.entries(subs)) for (const n of [name, ...(sub.aliases ?? [])]) loaders[n] = sub.load;
  const run = async (argv: string[], ctx: CliContext) => {
    let [sub, ...rest] = argv;
    // `tsbuild container help run` is `tsbuild container run --help`.
    if (sub === 'help' && rest.length > 0) [sub, rest] = [rest[0], [...rest.slice(1), '--help']];
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      ctx.stdout.write(groupHelp(group, help, subs) + '\n');
      return 0;
    }
    const load = loaders[sub];
    if (!load) {
      const like = sub.startsWith('-') ? undefined : suggest(sub, Object.keys(loaders));
      throw new TsbuildError('USAGE', `unknown command "${group} ${sub}"${like ? ` (did you mean ${group} ${like}?)` : ''}`, { hint: `run 'tsbuild ${group} --help'` });
    }
    return (await load())(rest, { ...ctx, command: `${group} ${sub}` });
  };
  return Object.assign(run, { options: { help: { type: 'boolean', short: 'h' } } as const, subcommands: loaders });
}

function groupHelp(group: string, help: GroupHelp, subs: Readonly<Record<string, Subcommand>>): string {
  const names = Object.entries(subs).map(([n, s]) => [n, ...(s.aliases ?? [])].join(', '));
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const lines = Object.values(subs).map((s, i) => `  ${names[i]!.padEnd(width)}${s.summary}`);
  return [
    `usage: tsbuild ${group} COMMAND`, '', help.summary, '', 'Commands:', ...lines, '',
    'Examples:', ...help.examples.map((e) => `  ${e}`), '',
    `Run 'tsbuild ${group} COMMAND --help' for a command's options.`,
  ].join('\n');
}

/** imageCommand is `tsbuild image SUB`: history, ls, rm, tag, inspect. */
export const imageCommand: Command = groupCommand('image', {
  summary: 'Manage images.',
  examples: ['tsbuild image ls', 'tsbuild image history app:1', 'tsbuild image rm app:1'],
}, {
  ls: { load: async () => imagesCommand, summary: 'list images', aliases: ['list'] },
  history: { load: async () => (await import('./history.ts')).historyCommand, summary: 'show the history of an image' },
  inspect: { load: async () => (await import('./inspect.ts')).imageInspectCommand, summary: 'print details of images as JSON' },
  rm: { load: async () => (await import('./rmi.ts')).rmiCommand, summary: 'remove images' },
  tag: { load: async () => (await import('./tag.ts')).tagCommand, summary: 'give an image another name' },
});
