import type { Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { renderError } from '../../ui/renderError.ts';
import { openStore } from '../../store/openStore.ts';
import { ContainerStore } from '../../containers/ContainerStore.ts';
import { removeImage } from '../../containers/removeImage.ts';

const HELP = `usage: tsbuild rmi [OPTIONS] IMAGE [IMAGE...]
       tsbuild image rm [OPTIONS] IMAGE [IMAGE...]

Remove images: by name, the name is untagged (the image goes with its last name,
unless a container uses it: then it stays as <none>, usable by id); by id, all its
names and the image. Layers stay in the store, shared with other images and containers.

Options:
  -f, --force   remove a name a container's image needs, or by id an image with several
                names or one a stopped container uses (default: refuse)

Examples:
  tsbuild rmi app:1
  tsbuild rmi -f 3b133923fe3f`;

const RMI_OPTIONS = {
  force: { type: 'boolean', short: 'f' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** rmiCommand is `tsbuild rmi`: each IMAGE in turn; failures are reported and the rest still removed (exit 1). */
export const rmiCommand: Command = withOptions(RMI_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'rmi', argv, RMI_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length === 0) throw new TsbuildError('USAGE', 'rmi: requires at least 1 argument', { hint: "run 'tsbuild rmi --help'" });
  const store = await openStore(ctx.root);
  const containers = new ContainerStore(store);
  let failed = false;
  for (const ref of positionals) {
    try {
      const lines = await removeImage(store, containers, ref, { force: Boolean(values.force) });
      ctx.stdout.write(lines.map((l) => `${l}\n`).join(''));
    } catch (e) {
      failed = true;
      ctx.stderr.write(renderError(e) + '\n');
    }
  }
  return failed ? 1 : 0;
});
