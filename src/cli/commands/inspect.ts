import type { Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { renderError } from '../../ui/renderError.ts';
import { openStore } from '../../store/openStore.ts';
import type { LocalStore } from '../../store/types.ts';
import { ContainerStore } from '../../containers/ContainerStore.ts';
import { findImage } from '../../containers/findImage.ts';
import { imageSize, listTaggedImages } from '../../containers/imageViews.ts';
import { containerInspect, imageInspect } from '../../containers/inspectViews.ts';
import { parseTemplate } from '../../containers/format/template.ts';

type Kind = 'container' | 'image';

const HELP = `usage: tsbuild inspect [OPTIONS] NAME|ID [NAME|ID...]
       tsbuild image inspect [OPTIONS] IMAGE...
       tsbuild container inspect [OPTIONS] CONTAINER...

Print low-level information on containers and images as a JSON array
(a container wins over an image of the same name, as in Docker).

Options:
  -f, --format FORMAT  Go-template subset per object, e.g. '{{.State.Status}}' or '{{json .Config}}'
      --type TYPE      container or image (default: either)

Examples:
  tsbuild inspect app:1
  tsbuild inspect -f '{{.State.Status}}' box
  tsbuild image inspect -f '{{json .Config.Env}}' app:1`;

const INSPECT_OPTIONS = {
  format: { type: 'string', short: 'f' },
  type: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** inspectCommand is `tsbuild inspect`: containers first, then images. */
export const inspectCommand: Command = withOptions(INSPECT_OPTIONS, (argv, ctx) => inspect(argv, ctx, undefined));
/** imageInspectCommand is `tsbuild image inspect`. */
export const imageInspectCommand: Command = withOptions(INSPECT_OPTIONS, (argv, ctx) => inspect(argv, ctx, 'image'));
/** containerInspectCommand is `tsbuild container inspect`. */
export const containerInspectCommand: Command = withOptions(INSPECT_OPTIONS, (argv, ctx) => inspect(argv, ctx, 'container'));

const inspect = async (argv: string[], ctx: Parameters<Command>[1], fixed: Kind | undefined): Promise<number> => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'inspect', argv, INSPECT_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length === 0) throw new TsbuildError('USAGE', 'inspect: requires at least 1 argument', { hint: "run 'tsbuild inspect --help'" });
  const type = fixed ?? values.type;
  if (type !== undefined && type !== 'container' && type !== 'image') throw new TsbuildError('USAGE', `inspect: --type must be container or image, not "${type}"`);
  const template = values.format === undefined ? undefined : parseTemplate(values.format, {}, { lenient: true });
  const store = await openStore(ctx.root);
  const out: unknown[] = [];
  let failed = false;
  for (const ref of positionals) {
    try {
      out.push(await inspectOne(store, ref, type));
    } catch (e) {
      failed = true;
      ctx.stderr.write(renderError(e) + '\n');
    }
  }
  if (template) ctx.stdout.write(template.render(out));
  else ctx.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
  return failed ? 1 : 0;
};

async function inspectOne(store: LocalStore, ref: string, type: Kind | undefined): Promise<unknown> {
  if (type !== 'image') {
    try {
      return await containerInspect(await new ContainerStore(store).resolve(ref));
    } catch (e) {
      if (type === 'container' || !(e instanceof TsbuildError && e.code === 'CONTAINER_NOT_FOUND')) throw e;
    }
  }
  try {
    const img = await findImage(store, ref);
    const names = (await listTaggedImages(store)).filter((t) => t.image.id === img.id).map((t) => t.name);
    return imageInspect(img, names, await imageSize(store, img));
  } catch (e) {
    if (type === undefined && e instanceof TsbuildError && e.code === 'IMAGE_NOT_FOUND') throw new TsbuildError('IMAGE_NOT_FOUND', `No such object: ${ref}`);
    throw e;
  }
}
