import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CliContext } from './context.ts';
import type { CacheSpec, OutputSpec } from './buildOutputs.ts';
import type { LocalStore } from '../store/types.ts';
import type { EventSink } from '../events/types.ts';
import type { BuildResult, RemoteCache } from '../solver/types.ts';
import type { CacheBackend } from '../remotecache/types.ts';
import type { Descriptor } from '../oci/types.ts';
import { openClient } from './commands/login.ts';

/** openBackends turns cache specs into backends (one registry client shared by all of them). */
export async function openBackends(ctx: CliContext, specs: readonly CacheSpec[], insecure: string[]): Promise<CacheBackend[]> {
  if (specs.length === 0) return [];
  const [{ registryBackend }, { localBackend }, { parseRegistryRef }] = await Promise.all([
    import('../remotecache/registryBackend.ts'), import('../remotecache/localBackend.ts'), import('../registry/reference.ts'),
  ]);
  const needsClient = specs.some((s) => s.type === 'registry');
  const client = needsClient ? await openClient(ctx, { insecure }) : undefined;
  return specs.map((s) => (s.type === 'registry' ? registryBackend(client!, parseRegistryRef(s.ref)) : localBackend(resolve(s.dir))));
}

/** importRemoteCache reads --cache-from backends; an absent cache is a warning, not an error (first CI run). */
export async function importRemoteCache(store: LocalStore, backends: CacheBackend[], events: EventSink): Promise<RemoteCache | undefined> {
  if (backends.length === 0) return undefined;
  const [{ importCache }, { CompressedLayerCache }] = await Promise.all([import('../remotecache/importCache.ts'), import('../registry/compressedCache.ts')]);
  const rc = await importCache(backends, store.content, new CompressedLayerCache(join(store.dirs.cache, 'compressed')));
  for (const where of rc.missing) events.emit({ type: 'warning', message: `--cache-from ${where}: no cache there yet, building without it`, at: Date.now() });
  if (rc.found.length > 0) events.emit({ type: 'info', message: `imported ${rc.size} cache records from ${rc.found.join(', ')}`, at: Date.now() });
  return rc;
}

/** exportRemoteCache writes the build's records to each --cache-to backend. */
export async function exportRemoteCache(store: LocalStore, specs: readonly CacheSpec[], backends: CacheBackend[], result: BuildResult, events: EventSink): Promise<void> {
  if (backends.length === 0) return;
  const [{ exportCache }, { CompressedLayerCache }] = await Promise.all([import('../remotecache/exportCache.ts'), import('../registry/compressedCache.ts')]);
  const compressed = new CompressedLayerCache(join(store.dirs.cache, 'compressed'));
  for (const [i, b] of backends.entries()) {
    const r = await exportCache(b, store.content, compressed, result.records, { mode: specs[i]!.mode, imageStages: result.imageStages });
    events.emit({ type: 'info', message: `exported cache (${r.records} records, ${r.layers} layers) to ${b.where}`, at: Date.now() });
  }
}

/** pushTags pushes the built image under each tag (the tags name registries: `localhost:5000/app:1`). */
export async function pushTags(ctx: CliContext, store: LocalStore, desc: Descriptor, tags: readonly string[], insecure: string[], events: EventSink): Promise<void> {
  const [{ pushImage }, { parseRegistryRef }] = await Promise.all([import('../registry/push.ts'), import('../registry/reference.ts')]);
  const client = await openClient(ctx, { insecure });
  try {
    for (const t of tags) {
      const res = await pushImage(client, store.content, desc, parseRegistryRef(t), { cacheDir: store.dirs.cache });
      events.emit({ type: 'info', message: `pushed ${t}@${res.manifestDesc.digest}`, at: Date.now() });
    }
  } finally {
    client.close();
  }
}

/** writeOutputs exports the built image as an archive file or a root filesystem directory (--output). */
export async function writeOutputs(store: LocalStore, desc: Descriptor, tags: readonly string[], layers: BuildResult['layers'], outputs: readonly OutputSpec[]): Promise<void> {
  for (const o of outputs) {
    if (o.type === 'local') {
      const { applyLayer } = await import('../snapshot/applyLayer.ts');
      const dir = resolve(o.dest);
      await mkdir(dir, { recursive: true });
      for (const l of layers) await applyLayer(store.content.open(l.digest), dir, { whiteouts: 'delete' });
      continue;
    }
    const { saveImages } = await import('../archive/saveImages.ts');
    const { normalizeTag } = await import('../store/refs.ts');
    const out = o.dest === '-' ? process.stdout : createWriteStream(resolve(o.dest));
    await saveImages(store.content, [{ manifestDesc: desc, tags: tags.map(normalizeTag) }], out, { format: o.type });
  }
}
