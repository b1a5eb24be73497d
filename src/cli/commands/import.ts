import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { requireRoot } from '../needsRoot.ts';
import { parseSourceDateEpoch } from '../sourceDateEpoch.ts';

const HELP = `usage: tsbuild import [OPTIONS] ROOTFS.tar[.gz]|- [NAME[:TAG]]

Make a one-layer base image from a root filesystem tarball ('-' reads stdin).
Prints the image id.

Options:
  --platform linux/ARCH   architecture recorded in the config (default: this host's)
  -h, --help              show this help

Without NAME[:TAG] the image is untagged (usable by its id).

Examples:
  tsbuild import rootfs.tar debian:bookworm
  mmdebstrap --variant=minbase bookworm - | tsbuild import - debian:bookworm`;

const IMPORT_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  platform: { type: 'string' },
} as const;

/** importCommand is `tsbuild import ROOTFS NAME[:TAG]`: a tarball becomes a tagged one-layer image. */
export const importCommand: Command = withOptions(IMPORT_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'import', argv, IMPORT_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length < 1 || positionals.length > 2) {
    throw new TsbuildError('USAGE', `import: requires 1 or 2 arguments (ROOTFS.tar and NAME[:TAG]), got ${positionals.length}`, { hint: "run 'tsbuild import --help'" });
  }
  const [source, tag] = positionals as [string, string | undefined];
  const [{ normalizeTag }, { openStore }, { OverlaySnapshotter }, { importRootfs, importError }, { cleanupAfterDeaths }] = await Promise.all([
    import('../../store/refs.ts'), import('../../store/openStore.ts'), import('../../snapshot/OverlaySnapshotter.ts'), import('../../snapshot/importRootfs.ts'),
    import('../../snapshot/mounts.ts'),
  ]);
  if (tag !== undefined) normalizeTag(tag); // a bad name fails before any work
  requireRoot(ctx, 'import');
  const architecture = platformArch(values.platform);
  const epoch = parseSourceDateEpoch(ctx.env.SOURCE_DATE_EPOCH);
  const input = source === '-' ? ctx.stdin : await openSource(source);
  const onAbort = () => input.destroy(ctx.signal.reason as Error);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const store = await openStore(ctx.root);
    await cleanupAfterDeaths(store.dirs);
    const snaps = new OverlaySnapshotter({ root: store.dirs.root, store: store.content });
    const created = new Date(epoch === undefined ? Date.now() : epoch * 1000).toISOString();
    const r = await importRootfs(store, snaps, {
      input, source, created, architecture,
      ...(tag !== undefined ? { tag } : {}),
      ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}),
    }).catch((e: unknown) => { throw ctx.signal.aborted ? ctx.signal.reason : importError(source, e); });
    await snaps.sync();
    ctx.stdout.write(`${r.id}\n`);
    return 0;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    if (input !== ctx.stdin) input.destroy();
  }
});

/** openSource opens the tarball first, so a missing file is one clear line naming it. */
async function openSource(path: string): Promise<Readable> {
  try {
    const fh = await open(path, 'r');
    return fh.createReadStream({ highWaterMark: 1 << 20 });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a tarball' : (e as Error).message;
    throw new TsbuildError('USAGE', `import ${path}: ${why}`);
  }
}

function platformArch(p: string | undefined): string {
  if (p === undefined) return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? 'amd64';
  const m = /^linux\/([a-z0-9]+)$/.exec(p);
  if (!m) throw new TsbuildError('USAGE', `import: --platform must be linux/ARCH, not "${p}"`);
  return m[1]!;
}
