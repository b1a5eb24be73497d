import type { Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { renderError } from '../../ui/renderError.ts';
import { openContainerDeps } from '../../containers/openContainerDeps.ts';
import { removeContainer } from '../../containers/removeContainer.ts';

const HELP = `usage: tsbuild rm [OPTIONS] CONTAINER [CONTAINER...]
       tsbuild container rm [OPTIONS] CONTAINER [CONTAINER...]

Remove containers (by name or id prefix): their layer, mounts and state.

Options:
  -f, --force   stop a running container first (it is killed; default: refuse)

Examples:
  tsbuild rm box
  tsbuild rm -f box other`;

const RM_OPTIONS = {
  force: { type: 'boolean', short: 'f' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** rmCommand is `tsbuild rm`: each CONTAINER in turn; failures are reported and the rest still removed (exit 1). */
export const rmCommand: Command = withOptions(RM_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'rm', argv, RM_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length === 0) throw new TsbuildError('USAGE', 'rm: requires at least 1 argument', { hint: "run 'tsbuild rm --help'" });
  const deps = await openContainerDeps(ctx.root);
  let failed = false;
  for (const ref of positionals) {
    try {
      await removeContainer(deps, await deps.containers.resolve(ref), { force: Boolean(values.force) });
      ctx.stdout.write(`${ref}\n`);
    } catch (e) {
      failed = true;
      ctx.stderr.write(renderError(e) + '\n');
    }
  }
  return failed ? 1 : 0;
});
