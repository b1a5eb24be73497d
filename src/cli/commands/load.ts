import { open, type FileHandle } from 'node:fs/promises';
import type { Command } from '../context.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { TsbuildError } from '../../core/errors.ts';

const HELP = `usage: tsbuild load [OPTIONS]

Load images from a docker-archive or OCI archive (tar or tar.gz), from standard input by default.

Options:
  -i, --input FILE   read FILE instead of standard input
  -q, --quiet        print nothing but errors

Examples:
  tsbuild load -i app.tar
  docker save busybox | tsbuild load`;

const LOAD_OPTIONS = {
  input: { type: 'string', short: 'i' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** loadCommand is `tsbuild load [-i FILE]`: every blob is verified; tags are set only if the whole archive loads. */
export const loadCommand: Command = withOptions(LOAD_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'load', argv, LOAD_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 0) throw new TsbuildError('USAGE', `load: takes no arguments (use -i FILE), got ${positionals.length}`);
  if (!values.input && ctx.stdin.isTTY) throw new TsbuildError('USAGE', 'load: standard input is a terminal', { hint: 'use -i FILE or redirect an archive into it' });
  const [{ openStore }, { loadArchive }, { loadImage }, { cleanupAfterDeaths }] = await Promise.all([
    import('../../store/openStore.ts'), import('../../archive/loadArchive.ts'), import('../../store/images.ts'), import('../../snapshot/mounts.ts'),
  ]);
  const store = await openStore(ctx.root);
  await cleanupAfterDeaths(store.dirs);
  const input = values.input ? (await openInput(values.input)).createReadStream() : ctx.stdin;
  const res = await loadArchive(store, input).catch((e: unknown) => { throw loadError(e, values.input ?? 'standard input'); });
  if (values.quiet) return 0;
  for (const img of res.images) {
    if (img.tags.length) for (const t of img.tags) ctx.stdout.write(`Loaded image: ${t}\n`);
    else ctx.stdout.write(`Loaded image ID: ${await loadImage(store.content, img.manifestDesc).then((r) => r.id, () => img.manifestDesc.digest)}\n`);
  }
  return 0;
});

/**
 * loadError names the archive in a failed load's message and, unless the error has a
 * more precise one, adds a hint. A load fails as a whole: the store is left as it was.
 */
function loadError(e: unknown, source: string): unknown {
  if (!(e instanceof TsbuildError)) return e;
  const hint = e.hint ?? 'the archive is damaged, or was not written by docker save, skopeo or tsbuild save; nothing was loaded';
  return new TsbuildError(e.code, `load ${source}: ${e.message}`, { hint, cause: e.cause ?? e, exitCode: e.exitCode });
}

/** openInput opens the archive file first, so that a missing or unreadable file is a usage error, not a damaged archive. */
async function openInput(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (e) {
    throw new TsbuildError('USAGE', `load: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'give an archive file with -i, or redirect one into standard input', cause: e });
  }
}
