import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { hexOf, type DiffID, type Digest } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import { MediaType } from '../oci/mediaTypes.ts';
import type { Descriptor, Index, Manifest } from '../oci/types.ts';
import { loadImage } from '../store/images.ts';
import { parseRef } from '../store/refs.ts';
import type { ContentStore } from '../store/types.ts';
import { TarWriter } from './tarWriter.ts';

/** SaveImage is one image to save: its manifest (or index) descriptor and the names to record for it. */
export interface SaveImage {
  manifestDesc: Descriptor;
  /** Normalised names (`app:1`, `localhost:5000/x:2`); may be empty. */
  tags: string[];
}

/** SaveOptions chooses the archive format. */
export interface SaveOptions {
  /** docker: `docker load`'s classic layout (manifest.json, <id>/layer.tar). oci: an OCI image layout. */
  format: 'docker' | 'oci';
}

/**
 * saveImages writes images as one tar to out (and ends it), streaming every blob
 * from the store. Entries have fixed metadata (mtime 0, root, 0644/0755), so the
 * same images give the same archive bytes. The docker format carries layers
 * uncompressed (gzip layers are inflated on the way, after a first pass that
 * measures and verifies them); the OCI format carries blobs as stored.
 */
export async function saveImages(store: ContentStore, images: readonly SaveImage[], out: Writable, opts: SaveOptions): Promise<void> {
  const tar = new TarWriter(out);
  try {
    if (opts.format === 'oci') await writeOci(store, images, tar);
    else await writeDocker(store, images, tar);
    await tar.finish();
  } catch (e) {
    out.destroy(e as Error);
    throw e;
  }
}

async function writeOci(store: ContentStore, images: readonly SaveImage[], tar: TarWriter): Promise<void> {
  const manifests: Descriptor[] = [];
  const blobs = new Map<Digest, number>();
  for (const img of images) {
    await collectBlobs(store, img.manifestDesc, blobs);
    const { mediaType, digest, size } = img.manifestDesc;
    if (img.tags.length === 0) manifests.push({ mediaType, digest, size });
    for (const t of img.tags) {
      manifests.push({ mediaType, digest, size, annotations: { 'io.containerd.image.name': fullName(t), 'org.opencontainers.image.ref.name': t } });
    }
  }
  const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
  await tar.file('oci-layout', 30, '{"imageLayoutVersion":"1.0.0"}');
  const indexBytes = Buffer.from(JSON.stringify(index));
  await tar.file('index.json', indexBytes.length, indexBytes);
  await tar.dir('blobs');
  await tar.dir('blobs/sha256');
  for (const [d, size] of blobs) await tar.file(`blobs/sha256/${hexOf(d)}`, size, () => store.open(d));
}

/** collectBlobs adds a manifest or index and everything under it that the store holds (indexes may be partial). */
async function collectBlobs(store: ContentStore, d: Descriptor, out: Map<Digest, number>): Promise<void> {
  if (out.has(d.digest)) return;
  out.set(d.digest, await store.size(d.digest));
  if (d.mediaType === MediaType.OciIndex || d.mediaType === MediaType.DockerManifestList) {
    for (const c of (await store.readJson<Index>(d.digest)).manifests) if (await store.has(c.digest)) await collectBlobs(store, c, out);
    return;
  }
  const m = await store.readJson<Manifest>(d.digest);
  for (const b of [m.config, ...m.layers]) out.set(b.digest, await store.size(b.digest));
}

/** fullName makes a stored name fully qualified, as containerd annotates it (`app:1` → `docker.io/library/app:1`). */
function fullName(tag: string): string {
  const r = parseRef(tag);
  if (r.domain) return tag;
  return `docker.io/${r.path.includes('/') ? r.path : `library/${r.path}`}${tag.slice(r.path.length)}`;
}

async function writeDocker(store: ContentStore, images: readonly SaveImage[], tar: TarWriter): Promise<void> {
  const entries: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const configs = new Map<Digest, number>();
  const layers = new Map<string, { digest: Digest; size: number; gzip: boolean }>();
  for (const img of images) {
    const rec = await loadImage(store, img.manifestDesc);
    const diffIDs = rec.config.rootfs.diff_ids;
    const names: string[] = [];
    for (const [i, l] of rec.manifest.layers.entries()) {
      const id = hexOf(diffIDs[i] as DiffID);
      names.push(`${id}/layer.tar`);
      if (layers.has(id)) continue;
      const gzip = l.mediaType.endsWith('gzip');
      if (!gzip && !isPlainLayer(l.mediaType)) throw new TsbuildError('USAGE', `save: layer ${l.digest} is ${l.mediaType}; docker archives take tar or gzip layers`);
      layers.set(id, { digest: l.digest, size: gzip ? await inflatedSize(store, l.digest, diffIDs[i] as DiffID) : l.size, gzip });
    }
    configs.set(rec.manifest.config.digest, rec.manifest.config.size);
    const tags = img.tags.filter((t) => !t.includes('@'));
    entries.push({ Config: `${hexOf(rec.manifest.config.digest)}.json`, RepoTags: tags, Layers: names });
    const top = names.at(-1)?.split('/')[0];
    for (const t of tags) {
      const i = t.lastIndexOf(':');
      if (top) (repositories[t.slice(0, i)] ??= {})[t.slice(i + 1)] = top;
    }
  }
  const manifest = Buffer.from(JSON.stringify(entries));
  await tar.file('manifest.json', manifest.length, manifest);
  const repos = Buffer.from(JSON.stringify(repositories));
  await tar.file('repositories', repos.length, repos);
  for (const [d, size] of configs) await tar.file(`${hexOf(d)}.json`, size, () => store.open(d));
  for (const [id, l] of layers) {
    await tar.dir(id);
    await tar.file(`${id}/layer.tar`, l.size, () => (l.gzip ? inflate(store, l.digest) : store.open(l.digest)));
  }
}

function isPlainLayer(m: string): boolean {
  return m === MediaType.OciLayer || m === MediaType.DockerLayer;
}

/** inflatedSize decompresses a gzip layer once to learn its size, checking it against its DiffID. */
async function inflatedSize(store: ContentStore, d: Digest, diffID: DiffID): Promise<number> {
  const h = createHash('sha256');
  let n = 0;
  for await (const c of inflate(store, d)) {
    h.update(c as Buffer);
    n += (c as Buffer).length;
  }
  if (`sha256:${h.digest('hex')}` !== diffID) throw new TsbuildError('STORE_CORRUPT', `layer ${d}: uncompressed content does not match diff_id ${diffID}`);
  return n;
}

/** inflate streams a stored gzip blob decompressed; errors of either side end the stream. */
function inflate(store: ContentStore, d: Digest): Readable {
  const g = createGunzip();
  pipeline(store.open(d), g).catch(() => undefined);
  return g;
}
