import type { Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { openStore } from '../../store/openStore.ts';
import { findImage } from '../../containers/findImage.ts';
import { historyRows, listImages } from '../../containers/imageViews.ts';
import { ellipsis, humanSize, shortId, since } from '../../containers/format/humanize.ts';
import { parseTemplate } from '../../containers/format/template.ts';

const HELP = `usage: tsbuild history [OPTIONS] IMAGE
       tsbuild image history [OPTIONS] IMAGE

Show the history of an image, newest entry first.

Options:
      --no-trunc       do not truncate output (full ids, whole CREATED BY)
  -q, --quiet          only show image ids
      --format FORMAT  Go-template subset, e.g. '{{.ID}} {{.CreatedBy}} {{.Size}} {{.Comment}}'
                       fields: ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment
                       (default: a table of IMAGE, CREATED, CREATED BY, SIZE, COMMENT)

Examples:
  tsbuild history app:1
  tsbuild history --no-trunc --format '{{.CreatedBy}}' app:1`;

const HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };
const DEFAULT_FORMAT = 'table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}';
const CREATED_BY_WIDTH = 45;

const HISTORY_OPTIONS = {
  'no-trunc': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** historyCommand is `tsbuild history IMAGE` with Docker's columns and truncation. */
export const historyCommand: Command = withOptions(HISTORY_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'history', argv, HISTORY_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length !== 1) throw new TsbuildError('USAGE', `history: requires exactly 1 argument (IMAGE), got ${positionals.length}`, { hint: "run 'tsbuild history --help'" });
  const template = parseTemplate(values.format ?? DEFAULT_FORMAT, HEADERS);
  const trunc = !values['no-trunc'];
  const store = await openStore(ctx.root);
  const img = await findImage(store, positionals[0]!);
  const others = (await listImages(store)).map((t) => t.image);
  const rows = await historyRows(store, img, others);
  const id = (d: string | undefined) => (d === undefined ? '<missing>' : trunc ? shortId(d) : d);
  if (values.quiet) {
    ctx.stdout.write(rows.map((r) => `${id(r.id)}\n`).join(''));
    return 0;
  }
  const now = new Date();
  ctx.stdout.write(template.render(rows.map((r) => {
    const createdBy = r.createdBy.replaceAll('\t', ' ');
    return {
      ID: id(r.id),
      CreatedSince: since(r.created, now) || 'N/A',
      CreatedAt: r.created ?? '',
      CreatedBy: trunc ? ellipsis(createdBy, CREATED_BY_WIDTH) : createdBy,
      Size: humanSize(r.size),
      Comment: r.comment,
    };
  })));
  return 0;
});
