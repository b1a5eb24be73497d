import type { CliContext, Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { openStore } from '../../store/openStore.ts';
import { imageSize, listImages } from '../../containers/imageViews.ts';
import { humanSize, shortId, since } from '../../containers/format/humanize.ts';
import { parseTemplate } from '../../containers/format/template.ts';

const HELP = `usage: tsbuild images [OPTIONS] [REPOSITORY[:TAG]]
       tsbuild image ls [OPTIONS] [REPOSITORY[:TAG]]

List images: one row per name, and untagged images (kept by id) as <none> <none>.

Options:
  -q, --quiet          only show image ids
      --no-trunc       show full image ids
      --format FORMAT  Go-template subset, e.g. 'table {{.Repository}}\\t{{.ID}}' or '{{json .}}'
                       fields: Repository, Tag, ID, CreatedSince, CreatedAt, Size, Digest`;

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
  const { values, positionals } = parseCommandArgs('images', argv, IMAGES_OPTIONS);
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

/** Subcommands maps a group's subcommand names to lazily loaded commands. */
export type Subcommands = Record<string, () => Promise<Command>>;

/**
 * groupCommand dispatches `tsbuild GROUP SUB ARGS…` (`image ls`, `container rm`)
 * to the subcommand, as Docker's management commands do.
 */
export function groupCommand(group: string, subs: Subcommands, summary: string): Command {
  const run = async (argv: string[], ctx: CliContext) => {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      ctx.stdout.write(`usage: tsbuild ${group} COMMAND\n\n${summary}\n\nCommands:\n${Object.keys(subs).map((s) => `  ${s}`).join('\n')}\n`);
      return sub === undefined ? 1 : 0;
    }
    const load = subs[sub];
    if (!load) throw new TsbuildError('USAGE', `unknown command "${group} ${sub}"`, { hint: `run 'tsbuild ${group} --help'` });
    return (await load())(rest, ctx);
  };
  return Object.assign(run, { options: { help: { type: 'boolean', short: 'h' } } as const, subcommands: subs });
}

/** imageCommand is `tsbuild image SUB`: history, ls, rm, tag, inspect. */
export const imageCommand: Command = groupCommand('image', {
  history: async () => (await import('./history.ts')).historyCommand,
  ls: async () => imagesCommand,
  list: async () => imagesCommand,
  rm: async () => (await import('./rmi.ts')).rmiCommand,
  tag: async () => (await import('./tag.ts')).tagCommand,
  inspect: async () => (await import('./inspect.ts')).imageInspectCommand,
}, 'Manage images.');
