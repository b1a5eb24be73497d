import type { Command } from '../context.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { TsbuildError } from '../../core/errors.ts';
import { openClient } from './login.ts';

const HELP = `usage: tsbuild push [OPTIONS] NAME[:TAG]

Upload an image from the store to the registry its name points at
(e.g. localhost:5000/team/app:1). Layers are compressed once per store;
blobs the registry already has are not uploaded.

Options:
      --compression KIND        gzip (default) or zstd (an OCI manifest; needs the zstd tool)
      --insecure-registry HOST  speak plain HTTP to HOST (localhost/127.0.0.1 always are)
      --chunk-size BYTES        upload blobs larger than this in chunks of this size
  -q, --quiet                   print only the pushed digest
                                (default chunk size: none, each blob in one request)

Examples:
  tsbuild push localhost:5000/team/app:1
  tsbuild push --compression zstd ghcr.io/jane/app:1`;

const PUSH_OPTIONS = {
  'insecure-registry': { type: 'string', multiple: true },
  'chunk-size': { type: 'string' },
  compression: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** pushCommand is `tsbuild push NAME[:TAG]`. */
export const pushCommand: Command = withOptions(PUSH_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'push', argv, PUSH_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length !== 1) throw new TsbuildError('USAGE', `push: requires exactly 1 argument (NAME[:TAG]), got ${positionals.length}`, { hint: "run 'tsbuild push --help'" });
  const chunkSize = values['chunk-size'] === undefined ? undefined : Number(values['chunk-size']);
  if (chunkSize !== undefined && !(Number.isSafeInteger(chunkSize) && chunkSize > 0)) throw new TsbuildError('USAGE', `push: --chunk-size must be a positive number of bytes`);
  const [{ parseRegistryRef }, { pushImage }, { openStore }, { normalizeTag }, { parseCompression }, { cleanupAfterDeaths }] = await Promise.all([
    import('../../registry/reference.ts'), import('../../registry/push.ts'), import('../../store/openStore.ts'), import('../../store/refs.ts'),
    import('../../registry/compression.ts'), import('../../snapshot/mounts.ts'),
  ]);
  const compression = parseCompression(values.compression ?? 'gzip', 'push');
  const name = positionals[0]!;
  const ref = parseRegistryRef(name);
  // Compressed blobs are written unsynced and synced once at the end, behind the push:
  // an fsync each competed with the registry's own for the disk (DeferredSync).
  const store = await openStore(ctx.root, { deferSync: (await import('../wire.ts')).syncLater });
  await cleanupAfterDeaths(store.dirs);
  const local = normalizeTag(name);
  const desc = await store.tags.get(local);
  if (!desc) throw new TsbuildError('IMAGE_NOT_FOUND', `push: no image tagged "${local}"`, { hint: `tag it first: tsbuild tag IMAGE ${local}` });
  const client = await openClient(ctx, { insecure: values['insecure-registry'] ?? [], ...(chunkSize !== undefined ? { chunkSize } : {}) });
  try {
    const res = await pushImage(client, store.content, desc, ref, { cacheDir: store.dirs.cache, compression });
    if (values.quiet) {
      ctx.stdout.write(`${res.manifestDesc.digest}\n`);
    } else {
      for (const b of res.blobs) ctx.stdout.write(`${b.digest.slice(7, 19)}: ${STATUS[b.result]}\n`);
      ctx.stdout.write(`${ref.tag ?? 'latest'}: digest: ${res.manifestDesc.digest} size: ${res.manifestDesc.size}\n`);
    }
  } finally {
    client.close();
    await store.deferred?.flush();
  }
  return 0;
});

const STATUS = { exists: 'Layer already exists', mounted: 'Mounted from another repository', uploaded: 'Pushed' } as const;
