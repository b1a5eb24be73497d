import { availableParallelism } from 'node:os';
import type { CliContext } from './context.ts';
import type { EventSink } from '../events/types.ts';
import type { BuildOptions, BuildResult, RemoteCache } from '../solver/types.ts';
import type { Descriptor } from '../oci/types.ts';
import type { LocalStore } from '../store/types.ts';
import { damageWarning, type OnDamage } from '../core/damage.ts';
import { TsbuildError } from '../core/errors.ts';

/** BuildRequest is one build as the CLI asks for it. */
export interface BuildRequest {
  text: string;
  filename: string;
  contextDir: string;
  tags: string[];
  options: BuildOptions;
  /** Registries spoken to over plain HTTP (besides localhost), for FROM pulls. */
  insecure?: string[];
  /** Records imported with --cache-from. */
  remoteCache?: RemoteCache;
}

/** BuildOutcome is a finished build: the image and what the solver did. */
export interface BuildOutcome {
  imageId: string;
  manifestDesc: Descriptor;
  result: BuildResult;
}

/** Builder is the composed build engine over one store root. */
export interface Builder {
  readonly defaultJobs: number;
  readonly store: LocalStore;
  build(req: BuildRequest): Promise<BuildOutcome>;
  close(): Promise<void>;
}

/**
 * syncLater is the store's deferred flush (DeferredSync) as commands that write blobs wire it:
 * sys/mount.ts syncFsLater, loaded only when there is something to sync.
 */
export async function syncLater(path: string, done: readonly string[]): Promise<void> {
  await (await import('../sys/mount.ts')).syncFsLater(path, done);
}

/**
 * openBuilder is the composition root of a build: it opens the store and wires
 * the concrete snapshotter, executor, cache and file sources into the solver.
 * Modules are imported here, lazily, so `tsbuild --help` loads none of them.
 */
export async function openBuilder(ctx: CliContext, opts: { events: EventSink; runtime: string }): Promise<Builder> {
  const [{ openStore }, { OverlaySnapshotter }, { selectExecutor }, { CacheStore }, { solve }, parser, { contextFiles }, { storeImages, finalizeImage }, { cleanupAfterDeaths }] = await Promise.all([
    import('../store/openStore.ts'),
    import('../snapshot/OverlaySnapshotter.ts'),
    import('../executor/selectExecutor.ts'),
    import('../cache/CacheStore.ts'),
    import('../solver/solve.ts'),
    import('../parser/index.ts'),
    import('../solver/fileSources.ts'),
    import('../solver/images.ts'),
    import('../snapshot/mounts.ts'),
  ]);
  const { shellExpander } = await import('../solver/expander.ts');
  if (!['auto', 'runc', 'unshare'].includes(opts.runtime)) throw new TsbuildError('USAGE', `--runtime must be auto, runc or unshare, not "${opts.runtime}"`);
  // Damage found on the way (what an OS crash can leave) is healed, and each is one warning.
  const onDamage: OnDamage = (d) => opts.events.emit({ type: 'warning', message: damageWarning(d), at: Date.now() });
  // Blobs are made durable by one detached syncfs at the end (DeferredSync), not one fsync each.
  const store = await openStore(ctx.root, { deferSync: syncLater, onDamage });
  // What killed builds left: stale mounts first, then ROOT/tmp (staged blobs, step dirs, locks, sockets).
  await cleanupAfterDeaths(store.dirs);
  const snapshotter = new OverlaySnapshotter({ root: store.dirs.root, store: store.content, volatileMounts: true, onDamage, ...(store.deferred ? { deferred: store.deferred } : {}) });
  const { lazyExecutor } = await import('../solver/lazyExecutor.ts');
  const executor = lazyExecutor(() => selectExecutor({ job: 'build', runtime: opts.runtime as 'auto' | 'runc' | 'unshare' }));
  const cache = new CacheStore(store.dirs.root, { onDamage });
  return {
    defaultJobs: availableParallelism(),
    store,
    async build(req) {
      const parsed = parser.parseBuildfile(req.text, req.filename);
      for (const w of parsed.warnings) opts.events.emit({ type: 'warning', message: w.message, range: w.range, at: Date.now() });
      const t0 = Date.now();
      try {
        return await buildOnce(req, parsed, t0);
      } catch (e) {
        // A layer found damaged mid-build was removed: a second run makes or fetches it afresh.
        if (!(e instanceof TsbuildError && e.code === 'STORE_HEALED')) throw e;
        opts.events.emit({ type: 'warning', message: `${e.message}: building again`, at: Date.now() });
        return buildOnce(req, parsed, t0);
      }
    },
    // Whatever happened, what the build command wrote unsynced (layers, snapshots, the image,
    // compressed blobs of --push and --cache-to) gets one detached syncfs, not waited for.
    async close() {
      await store.deferred?.flush();
    },
  };

  async function buildOnce(req: Parameters<Builder['build']>[0], parsed: ReturnType<typeof parser.parseBuildfile>, t0: number): ReturnType<Builder['build']> {
    const result = await solve(parsed, {
      store: store.content,
      images: storeImages(store, async (ref) => {
        const [{ pullImage }, { parseRegistryRef }, { tagImage }, { openClient }] = await Promise.all([
          import('../registry/pull.ts'), import('../registry/reference.ts'), import('../store/images.ts'), import('./commands/login.ts'),
        ]);
        const client = await openClient(ctx, { insecure: req.insecure ?? [] });
        try {
          opts.events.emit({ type: 'info', message: `pulling ${ref}`, at: Date.now() });
          const res = await pullImage(client, store.content, parseRegistryRef(ref), { cacheDir: store.dirs.cache });
          await tagImage(store.tags, ref, res.manifestDesc);
        } finally {
          client.close();
        }
      }, onDamage),
      snapshotter,
      executor,
      cache,
      ...(req.remoteCache ? { remoteCache: req.remoteCache } : {}),
      files: contextFiles(req.contextDir, store.dirs, req.filename),
      expand: shellExpander(parsed.directives.escape),
      parseTrigger: (t) => parser.parseBuildfile(t, 'ONBUILD'),
      events: opts.events,
      tmpDir: store.dirs.tmp,
      now: () => new Date(),
    }, req.options);
    // A signal that came while the last step ended stops the build before the image is tagged.
    req.options.signal?.throwIfAborted();
    const { imageId, manifestDesc } = await finalizeImage(store, result, req.tags, req.options.sourceDateEpoch);
    opts.events.emit({ type: 'build.done', imageId, tags: req.tags, ms: Date.now() - t0, at: Date.now() });
    return { imageId, manifestDesc, result };
  }
}
