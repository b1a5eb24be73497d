import type { Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { openStore } from '../../store/openStore.ts';
import { tagImage } from '../../store/images.ts';
import { findImage } from '../../containers/findImage.ts';

const HELP = `usage: tsbuild tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]
       tsbuild image tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]

Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE (a name or an id prefix).
A name without a tag is :latest.

Examples:
  tsbuild tag app:1 app:latest
  tsbuild tag app:1 localhost:5000/team/app:1`;

const TAG_OPTIONS = { help: { type: 'boolean', short: 'h' } } as const;

/** tagCommand is `tsbuild tag SRC DST`: DST names the same manifest as SRC (an existing DST is moved). */
export const tagCommand: Command = withOptions(TAG_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'tag', argv, TAG_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length !== 2) throw new TsbuildError('USAGE', `tag: requires exactly 2 arguments (SOURCE_IMAGE TARGET_IMAGE), got ${positionals.length}`, { hint: "run 'tsbuild tag --help'" });
  const store = await openStore(ctx.root);
  const img = await findImage(store, positionals[0]!);
  // A tag keeps what its source tag points at (an index stays an index); an id names its manifest.
  const desc = (await store.tags.get(positionals[0]!).catch(() => undefined)) ?? img.manifestDesc;
  await tagImage(store.tags, positionals[1]!, desc);
  return 0;
});
