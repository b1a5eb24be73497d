import type { Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';
import { damageLine, type StoreDamage } from '../../core/damage.ts';
import { parseCommandArgs, withOptions } from '../args.ts';

const HELP = `usage: tsbuild fsck [OPTIONS]

Check the store for damage (what an OS crash, a full disk or a failing disk can leave)
and repair it: one line per problem and what was done, then a summary. Builds heal the
damage they meet on their own; fsck is for a store you distrust.

Checked, in this order:
  tmp/ and cache/     files left by processes that are gone (removed)
  oci/oci-layout      rewritten if damaged
  oci/index.json      if damaged, replaced by the copy from before its last change
                      (an empty index when there is none: its tags are lost)
  blobs               every blob hashed against its digest; a damaged one is removed
                      (the next build makes it again, a pull fetches it again)
  tags                a tag whose manifest is gone is removed; an image missing its
                      config or a layer is reported and left (pull, load or import it)
  cache records       one that is torn, or whose layer blob is gone or cut, is removed
                      (the step runs again on its next build)
  snapshots           metadata (diffid, fs/); with --content also every file against its
                      layer; a damaged snapshot is removed (extracted again when needed)
  stat caches         a torn one is removed (the next build hashes the context again)
  containers          a damaged record is reported and left: its changes are user data

Options:
  -n, --dry-run   report only, change nothing (exit status 1 if anything is found)
      --content   also compare every snapshot's files with its layer (slow: reads
                  every layer and snapshot; default: metadata only)

Exit status: 0 when the store is sound (or was repaired), 1 when damage remains.

Examples:
  tsbuild fsck                 check and repair the default store
  tsbuild --root /ci/cache fsck --dry-run
  tsbuild fsck --content       after a disk error: compare snapshots with their layers`;

const FSCK_OPTIONS = {
  'dry-run': { type: 'boolean', short: 'n' },
  content: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** fsckCommand is `tsbuild fsck`: checkStore with a line per problem and a summary on stdout. */
export const fsckCommand: Command = withOptions(FSCK_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'fsck', argv, FSCK_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 0) throw new TsbuildError('USAGE', `fsck: takes no arguments, got "${positionals[0]}"`, { hint: "run 'tsbuild fsck --help'" });
  const repair = !values['dry-run'];
  const found: StoreDamage[] = [];
  const { checkStore } = await import('../checkStore.ts');
  const sum = await checkStore(ctx.root, {
    repair,
    content: Boolean(values.content),
    onDamage: (d) => {
      found.push(d);
      ctx.stdout.write(`${damageLine(d)}\n`);
    },
  });
  const compared = values.content ? ` (${sum.compared} compared with their layer)` : '';
  ctx.stdout.write(`checked ${sum.blobs} blobs, ${sum.images} images, ${sum.records} cache records, ${sum.snapshots} snapshots${compared}\n`);
  const left = found.filter((d) => !d.fixed).length;
  if (found.length === 0) ctx.stdout.write('no problems found\n');
  else if (!repair) ctx.stdout.write(`${plural(found.length, 'problem')} found; nothing was changed (--dry-run)\n`);
  else ctx.stdout.write(`${plural(found.length, 'problem')}: ${found.length - left} repaired, ${left} left\n`);
  return left > 0 ? 1 : 0;
});

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
