import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import type { Command } from '../context.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { TsbuildError } from '../../core/errors.ts';

const HELP = `usage: tsbuild save [OPTIONS] IMAGE [IMAGE...]

Write one or more images (names or ids) to a tar archive, to standard output by default.

Options:
  -o, --output FILE      write to FILE instead of standard output
      --format FORMAT    docker (default: what 'docker load' reads) or oci (an OCI image layout)
      --compression KIND with --format oci: gzip or zstd layers (default: as stored, plain tar);
                         the archive's manifests then differ from the store's, the image ids do not

Examples:
  tsbuild save -o app.tar app:1
  tsbuild save --format oci app:1 | gzip > app.oci.tar.gz`;

const SAVE_OPTIONS = {
  output: { type: 'string', short: 'o' },
  format: { type: 'string' },
  compression: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** saveCommand is `tsbuild save [-o FILE] [--format docker|oci] IMAGE...`. A file is written whole or not at all. */
export const saveCommand: Command = withOptions(SAVE_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'save', argv, SAVE_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length === 0) throw new TsbuildError('USAGE', 'save: requires at least 1 IMAGE', { hint: "run 'tsbuild save --help'" });
  const format = values.format ?? 'docker';
  if (format !== 'docker' && format !== 'oci') throw new TsbuildError('USAGE', `save: --format must be docker or oci, not "${format}"`);
  if (values.compression !== undefined && format !== 'oci') {
    throw new TsbuildError('USAGE', 'save: --compression needs --format oci', { hint: 'docker archives hold plain tar layers' });
  }
  if (!values.output && ctx.stdout.isTTY) throw new TsbuildError('USAGE', 'save: refusing to write an archive to a terminal', { hint: 'use -o FILE or redirect the output' });
  const [{ openStore }, { readImage }, { normalizeTag }, { saveImages }] = await Promise.all([
    import('../../store/openStore.ts'), import('../../store/images.ts'), import('../../store/refs.ts'), import('../../archive/saveImages.ts'),
  ]);
  const store = await openStore(ctx.root);
  const images: { manifestDesc: Awaited<ReturnType<typeof readImage>>['manifestDesc']; tags: string[] }[] = [];
  for (const name of positionals) {
    let tag: string | undefined;
    try {
      tag = normalizeTag(name);
    } catch {
      tag = undefined; // not a name: maybe an id, readImage below says
    }
    const tagged = tag ? await store.tags.get(tag) : undefined;
    if (tagged) images.push({ manifestDesc: tagged, tags: [tag!] });
    else images.push({ manifestDesc: (await readImage(store, name)).manifestDesc, tags: [] });
  }
  if (values.compression !== undefined) {
    const [{ parseCompression }, { compressImage }] = await Promise.all([import('../../registry/compression.ts'), import('../../registry/compressionManifest.ts')]);
    const compression = parseCompression(values.compression, 'save');
    for (const img of images) img.manifestDesc = await compressImage(store.content, img.manifestDesc, { cacheDir: store.dirs.cache, compression });
  }
  if (!values.output) {
    await saveImages(store.content, images, ctx.stdout, { format });
    return 0;
  }
  const tmp = `${values.output}.${process.pid}.tmp`;
  try {
    await saveImages(store.content, images, createWriteStream(tmp), { format });
    await rename(tmp, values.output);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return 0;
});
