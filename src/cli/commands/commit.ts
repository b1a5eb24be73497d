import type { Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { requireRoot } from '../needsRoot.ts';
import { openContainerDeps } from '../../containers/openContainerDeps.ts';
import { commitContainer } from '../../containers/commitContainer.ts';
import { normalizeTag } from '../../store/refs.ts';

const HELP = `usage: tsbuild commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]
       tsbuild container commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]

Create a new image from a container's changes: its layer on top of its image's
layers, with a history entry. Works on stopped and running containers; the
container stays as it is. Prints the new image id.

Options:
  -m, --message MSG     commit message (the history entry's comment)
  -a, --author AUTHOR   author (e.g. "Jane Doe <jane@example.com>")
  -c, --change INSTR    apply a Buildfile instruction to the config: CMD, ENTRYPOINT,
                        ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR (repeatable)
  -p, --pause           accepted for Docker compatibility (containers are not paused)

Without REPOSITORY[:TAG] the image is untagged (usable by its id).

Examples:
  tsbuild commit box box-image:1
  tsbuild commit -m 'add curl' -c 'CMD ["curl", "--version"]' box tools:latest`;

const COMMIT_OPTIONS = {
  message: { type: 'string', short: 'm' },
  author: { type: 'string', short: 'a' },
  change: { type: 'string', short: 'c', multiple: true },
  pause: { type: 'boolean', short: 'p' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** commitCommand is `tsbuild commit` / `tsbuild container commit`. */
export const commitCommand: Command = withOptions(COMMIT_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'commit', argv, COMMIT_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length < 1 || positionals.length > 2) {
    throw new TsbuildError('USAGE', `commit: requires 1 or 2 arguments (CONTAINER [REPOSITORY[:TAG]]), got ${positionals.length}`, { hint: "run 'tsbuild commit --help'" });
  }
  const [ref, tag] = positionals as [string, string | undefined];
  if (tag !== undefined) normalizeTag(tag); // a bad name fails before any work
  requireRoot(ctx, 'commit');
  const deps = await openContainerDeps(ctx.root);
  const c = await deps.containers.resolve(ref);
  const id = await commitContainer(deps, c, {
    ...(values.message !== undefined ? { message: values.message } : {}),
    ...(values.author !== undefined ? { author: values.author } : {}),
    ...(values.change ? { changes: values.change } : {}),
    ...(tag !== undefined ? { tag } : {}),
  });
  await deps.snapshotter.sync();
  ctx.stdout.write(`${id}\n`);
  return 0;
});
