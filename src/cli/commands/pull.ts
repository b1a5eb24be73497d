import type { Command } from '../context.ts';
import { parseCommandArgs, withOptions } from '../args.ts';
import { TsbuildError } from '../../core/errors.ts';
import { openClient } from './login.ts';

const HELP = `usage: tsbuild pull [OPTIONS] NAME[:TAG|@DIGEST]

Download an image from a registry into the store and tag it NAME[:TAG].

Options:
      --platform OS/ARCH[/VARIANT]  platform to pick from a multi-platform image (default linux/amd64)
      --insecure-registry HOST      speak plain HTTP to HOST (localhost/127.0.0.1 always are)
  -q, --quiet                       print only the image name

A name without a registry is on docker.io; without a tag, :latest.

Examples:
  tsbuild pull debian:bookworm
  tsbuild pull localhost:5000/team/app:1`;

const PULL_OPTIONS = {
  platform: { type: 'string' },
  'insecure-registry': { type: 'string', multiple: true },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** pullCommand is `tsbuild pull NAME`: only missing blobs are downloaded; the manifest keeps the registry's digest. */
export const pullCommand: Command = withOptions(PULL_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'pull', argv, PULL_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length !== 1) throw new TsbuildError('USAGE', `pull: requires exactly 1 argument (NAME[:TAG]), got ${positionals.length}`, { hint: "run 'tsbuild pull --help'" });
  const [{ parseRegistryRef, refString }, { pullImage }, { openStore }, { tagImage }, { cleanupAfterDeaths }] = await Promise.all([
    import('../../registry/reference.ts'), import('../../registry/pull.ts'), import('../../store/openStore.ts'), import('../../store/images.ts'),
    import('../../snapshot/mounts.ts'),
  ]);
  const name = positionals[0]!;
  const ref = parseRegistryRef(name);
  const platform = values.platform ? parsePlatform(values.platform) : undefined;
  const store = await openStore(ctx.root);
  await cleanupAfterDeaths(store.dirs);
  const client = await openClient(ctx, { insecure: values['insecure-registry'] ?? [] });
  try {
    if (!values.quiet) ctx.stdout.write(`Pulling ${refString(ref)}\n`);
    const res = await pullImage(client, store.content, ref, { cacheDir: store.dirs.cache, ...(platform ? { platform } : {}) });
    const local = await tagImage(store.tags, name, res.manifestDesc);
    if (values.quiet) ctx.stdout.write(`${local}\n`);
    else ctx.stdout.write(`Digest: ${res.manifestDesc.digest}\nStatus: ${res.fetched ? 'Downloaded newer image' : 'Image is up to date'} for ${local}\n`);
  } finally {
    client.close();
  }
  return 0;
});

function parsePlatform(s: string): { os: string; architecture: string; variant?: string } {
  const [os, architecture, variant, extra] = s.split('/');
  if (!os || !architecture || extra !== undefined) throw new TsbuildError('USAGE', `pull: --platform "${s}": want OS/ARCH[/VARIANT], e.g. linux/amd64`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}
