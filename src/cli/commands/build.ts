import { readFile, writeFile, stat } from 'node:fs/promises';
import { resolve, basename } from 'node:path';
import type { Command } from '../context.ts';
import { TsbuildError } from '../../core/errors.ts';
import { decodeBuildfile } from '../../parser/decodeBuildfile.ts';
import { parseCommandArgs, parseKeyValues, withOptions } from '../args.ts';
import { parseSecrets } from '../secrets.ts';
import { parseSourceDateEpoch } from '../sourceDateEpoch.ts';
import { createRenderer, PROGRESS_MODES, type ProgressMode } from '../../ui/createRenderer.ts';
import { openBuilder } from '../wire.ts';
import { parseCacheSpec, parseOutputSpec } from '../buildOutputs.ts';
import { normalizeTag } from '../../store/refs.ts';
import { requireRoot } from '../needsRoot.ts';
import { ENTITLEMENTS, type Entitlement } from '../../solver/entitlements.ts';

const HELP = `usage: tsbuild build [OPTIONS] [CONTEXT]

Build an image from a Buildfile (Dockerfile syntax). CONTEXT defaults to '.'.

Options:
  -f, --file FILE          Buildfile (default: CONTEXT/Buildfile, else CONTEXT/Dockerfile)
  -t, --tag NAME[:TAG]     name the image (repeatable)
      --build-arg K[=V]    set a build-time variable (repeatable)
      --secret id=ID,src=FILE|env=NAME  expose a secret to RUN --mount=type=secret (repeatable)
      --target STAGE       build up to this stage (default: the last one)
      --no-cache[=BOOL]    do not use cached steps (default: false)
      --network MODE       host (default) or none for RUN steps
      --allow ENTITLEMENT  grant security.insecure (RUN --security=insecure: every capability,
                           no seccomp) or network.host (repeatable, or comma-separated)
      --progress MODE      auto (default: tty on a terminal, else plain), plain, tty,
                           json (rawjson) or quiet; see docs/PROGRESS.md
      --iidfile FILE       write the image id to FILE
      --jobs N             steps run at once across stages (default: number of CPUs)
      --runtime NAME       auto (default), runc or unshare
      --push               push the image to the registry each tag names
      --output SPEC        also export: type=oci|docker,dest=FILE or type=local,dest=DIR
      --cache-to SPEC      export the build cache: type=registry,ref=REG/NAME:TAG[,mode=min|max]
                           or type=local,dest=DIR
      --cache-from SPEC    use a build cache: type=registry,ref=… or type=local,src=DIR (repeatable)
      --insecure-registry HOST   speak plain HTTP to HOST (localhost/127.0.0.1 always are)

Examples:
  tsbuild build -t app:1 .
  tsbuild build -f docker/Dockerfile --build-arg VERSION=2 --target test --progress=plain .
  tsbuild -t localhost:5000/team/app:1 --push .`;

const BUILD_OPTIONS = {
  file: { type: 'string', short: 'f' },
  tag: { type: 'string', short: 't', multiple: true },
  'build-arg': { type: 'string', multiple: true },
  secret: { type: 'string', multiple: true },
  target: { type: 'string' },
  'no-cache': { type: 'boolean' },
  network: { type: 'string' },
  allow: { type: 'string', multiple: true },
  progress: { type: 'string' },
  iidfile: { type: 'string' },
  jobs: { type: 'string' },
  runtime: { type: 'string' },
  push: { type: 'boolean' },
  output: { type: 'string', short: 'o', multiple: true },
  'cache-to': { type: 'string', multiple: true },
  'cache-from': { type: 'string', multiple: true },
  'insecure-registry': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

/** buildCommand is `tsbuild build` (also `tsbuild -f … .`). */
export const buildCommand: Command = withOptions(BUILD_OPTIONS, async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(ctx.command ?? 'build', argv, BUILD_OPTIONS);
  if (values.help) { ctx.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 1) throw new TsbuildError('USAGE', `build: expected one CONTEXT, got ${positionals.length}`);
  const contextDir = resolve(positionals[0] ?? '.');
  const st = await stat(contextDir).catch(() => undefined);
  if (!st?.isDirectory()) throw new TsbuildError('USAGE', `build: context ${contextDir} is not a directory`);
  const file = await findBuildfile(values.file, contextDir);
  const filename = file === '-' ? 'Buildfile' : displayName(file);
  const bytes = file === '-' ? await readStdin(ctx.stdin) : await readFile(file).catch((e: unknown) => { throw new TsbuildError('IO', `${file}: cannot read Buildfile`, { cause: e }); });
  const text = decodeBuildfile(bytes, filename);
  const network = values.network ?? 'host';
  if (network !== 'host' && network !== 'none' && network !== 'default') throw new TsbuildError('USAGE', `build: --network must be host or none, not "${network}"`);
  const entitlements = parseAllow(values.allow ?? []);
  const progress = (values.progress ?? 'auto') as ProgressMode;
  if (!PROGRESS_MODES.includes(progress)) throw new TsbuildError('USAGE', `build: --progress must be auto, plain, tty, json (or rawjson) or quiet`);
  const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0)) throw new TsbuildError('USAGE', `build: --jobs must be a positive integer`);
  const cacheTo = (values['cache-to'] ?? []).map((v) => parseCacheSpec('--cache-to', v));
  const cacheFrom = (values['cache-from'] ?? []).map((v) => parseCacheSpec('--cache-from', v));
  const outputs = (values.output ?? []).map(parseOutputSpec);
  const tags = values.tag ?? [];
  for (const t of tags) checkTag(t); // a bad name fails before any step runs
  if (values.push && tags.length === 0) throw new TsbuildError('USAGE', 'build: --push needs at least one -t REGISTRY/NAME[:TAG]');
  const insecure = values['insecure-registry'] ?? [];
  const sde = parseSourceDateEpoch(ctx.env.SOURCE_DATE_EPOCH);
  requireRoot(ctx, 'build');
  const renderer = await createRenderer(progress, ctx.stderr, { redraw: ctx.isTTY, color: ctx.color ?? false });
  const builder = await openBuilder(ctx, { events: renderer, runtime: values.runtime ?? 'auto' });
  try {
    const extras = cacheTo.length || cacheFrom.length || outputs.length || values.push ? await import('../buildExtras.ts') : undefined;
    const remoteCache = extras ? await extras.importRemoteCache(builder.store, await extras.openBackends(ctx, cacheFrom, insecure), renderer) : undefined;
    const result = await builder.build({
      ...(remoteCache ? { remoteCache } : {}),
      insecure,
      text,
      filename,
      contextDir,
      tags,
      options: {
        buildArgs: parseKeyValues(values['build-arg'], ctx.env, 'build-arg'),
        secrets: parseSecrets(values.secret, ctx.env),
        ...(values.target ? { target: values.target } : {}),
        noCache: Boolean(values['no-cache']),
        network: network === 'none' ? 'none' : 'host',
        entitlements,
        jobs: jobs ?? builder.defaultJobs,
        ...(sde !== undefined ? { sourceDateEpoch: sde } : {}),
        signal: ctx.signal,
      },
    });
    if (extras) {
      await extras.exportRemoteCache(builder.store, cacheTo, await extras.openBackends(ctx, cacheTo, insecure), result.result, renderer);
      await extras.writeOutputs(builder.store, result.manifestDesc, tags, result.result.layers, outputs);
      if (values.push) await extras.pushTags(ctx, builder.store, result.manifestDesc, tags, insecure, renderer);
    }
    if (values.iidfile) await writeFile(values.iidfile, result.imageId);
    ctx.stdout.write(`${result.imageId}\n`);
    return 0;
  } finally {
    renderer.close?.();
    await builder.close();
  }
});

function checkTag(tag: string): void {
  try {
    normalizeTag(tag);
  } catch (e) {
    if (e instanceof TsbuildError) throw new TsbuildError(e.code, `build: -t ${tag}: ${e.message}`, { ...(e.hint ? { hint: e.hint } : {}) });
    throw e;
  }
}

/** parseAllow reads --allow values (each may list several, comma-separated); an unknown entitlement is a usage error. */
function parseAllow(values: readonly string[]): Set<Entitlement> {
  const out = new Set<Entitlement>();
  for (const e of values.flatMap((v) => v.split(','))) {
    if (!(ENTITLEMENTS as readonly string[]).includes(e)) throw new TsbuildError('USAGE', `build: --allow: unknown entitlement "${e}" (want ${ENTITLEMENTS.join(' or ')})`);
    out.add(e as Entitlement);
  }
  return out;
}

async function findBuildfile(given: string | undefined, contextDir: string): Promise<string> {
  if (given === '-') return '-';
  if (given !== undefined) return resolve(given);
  for (const name of ['Buildfile', 'Dockerfile']) {
    const p = resolve(contextDir, name);
    if (await stat(p).then((s) => s.isFile(), () => false)) return p;
  }
  throw new TsbuildError('USAGE', `build: no Buildfile or Dockerfile in ${contextDir}`, { hint: 'pass one with -f FILE' });
}

function displayName(file: string): string {
  const rel = file.startsWith(process.cwd() + '/') ? file.slice(process.cwd().length + 1) : file;
  return rel.length < file.length ? rel : basename(file) === file ? file : rel;
}

async function readStdin(stdin: NodeJS.ReadStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
