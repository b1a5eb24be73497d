import type { Readable } from 'node:stream';
import { TsbuildError } from '../core/errors.ts';
import type { DiffID } from '../core/digest.ts';
import { canonicalJson } from '../oci/canonicalJson.ts';
import { MediaType, isIndexMediaType } from '../oci/mediaTypes.ts';
import type { Descriptor, ImageConfig, Index, Manifest } from '../oci/types.ts';
import { normalizeTag } from '../store/refs.ts';
import type { ContentStore, TagStore } from '../store/types.ts';
import type { IngestedBlob } from './ingest.ts';
import { materialize, readArchive, readSmall, type ArchiveFiles } from './readArchive.ts';

/** LoadTarget is where loaded images go: blobs and tags (a LocalStore fits). */
export interface LoadTarget {
  content: ContentStore;
  tags: TagStore;
}

/** LoadedImage is one image of an archive, now in the store. */
export interface LoadedImage {
  manifestDesc: Descriptor;
  /** Names it was tagged with (normalised), possibly none. */
  tags: string[];
  /** An OCI ref.name that was not a full reference (e.g. just `latest`): kept for the caller to use. */
  refName?: string;
}

/** LoadResult lists the images loaded and every tag set. */
export interface LoadResult {
  images: LoadedImage[];
  tags: string[];
}

/** REF_NAME and containerd's name annotation, as OCI archives carry them. */
const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';

/**
 * loadArchive reads a docker-archive (manifest.json; Docker's classic `docker save`
 * layout or the newer blobs/ one) or an OCI archive (oci-layout + index.json), tar or
 * tar.gz, in one streaming pass. Every blob is verified: names that are digests must
 * match, and each layer's uncompressed digest must equal the config's diff_id.
 * Layers are kept as they come (plain tar or gzip). Tags are set after everything
 * is in the store, so a failed load tags nothing.
 */
export async function loadArchive(target: LoadTarget, input: Readable): Promise<LoadResult> {
  const files = await readArchive(target.content, input);
  let images: LoadedImage[];
  if (files.has('manifest.json')) images = await loadDocker(target.content, files);
  else if (files.has('index.json')) images = await loadOci(target.content, files);
  else throw new TsbuildError('BAD_ARCHIVE', 'archive has neither manifest.json (docker-archive) nor index.json (OCI archive)');
  for (const img of images) for (const t of img.tags) await target.tags.set(t, img.manifestDesc);
  return { images, tags: images.flatMap((i) => i.tags) };
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function json<T>(store: ContentStore, files: ArchiveFiles, name: string): Promise<T> {
  const b = await readSmall(store, files, name);
  if (!b) throw new TsbuildError('BAD_ARCHIVE', `archive has no "${name}"`);
  try {
    return JSON.parse(b.toString('utf8')) as T;
  } catch (e) {
    throw new TsbuildError('BAD_ARCHIVE', `archive entry ${name}: not JSON`, { cause: e });
  }
}

async function loadDocker(store: ContentStore, files: ArchiveFiles): Promise<LoadedImage[]> {
  const entries = await json<DockerManifestEntry[]>(store, files, 'manifest.json');
  if (!Array.isArray(entries)) throw new TsbuildError('BAD_ARCHIVE', 'manifest.json: not a list');
  const out: LoadedImage[] = [];
  for (const e of entries) {
    if (typeof e.Config !== 'string' || !Array.isArray(e.Layers)) throw new TsbuildError('BAD_ARCHIVE', 'manifest.json: entry without Config or Layers');
    const cfgBlob = await materialize(store, files, e.Config);
    const config = await store.readJson<ImageConfig>(cfgBlob.digest);
    const layers: Descriptor[] = [];
    for (const [i, name] of e.Layers.entries()) layers.push(layerDescriptor(await materialize(store, files, name), config, i, name));
    checkLayerCount(config, layers.length, e.Config);
    // Same manifest form as the store's writeImage, so a tsbuild image saved and loaded keeps its manifest digest.
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: cfgBlob.digest, size: cfgBlob.size },
      layers,
    };
    const m = await store.putBytes(canonicalJson(manifest));
    out.push({ manifestDesc: { mediaType: MediaType.OciManifest, digest: m.digest, size: m.size }, tags: (e.RepoTags ?? []).map((t) => normalizeTag(t)) });
  }
  return out;
}

function layerDescriptor(b: IngestedBlob, config: ImageConfig, i: number, name: string): Descriptor {
  const want = config.rootfs?.diff_ids?.[i];
  if (b.compression !== 'none' && b.compression !== 'gzip') throw new TsbuildError('BAD_ARCHIVE', `layer ${name}: ${b.compression} layers are not supported`);
  if (b.diffID !== want) throw new TsbuildError('DIGEST_MISMATCH', `layer ${name}: content is ${b.diffID}, config says diff_id ${want ?? '(none)'}`);
  return { mediaType: b.compression === 'gzip' ? MediaType.OciLayerGzip : MediaType.OciLayer, digest: b.digest, size: b.size };
}

function checkLayerCount(config: ImageConfig, n: number, what: string): void {
  const have = config.rootfs?.diff_ids?.length ?? 0;
  if (have !== n) throw new TsbuildError('BAD_ARCHIVE', `${what}: config lists ${have} diff_ids for ${n} layers`);
}

async function loadOci(store: ContentStore, files: ArchiveFiles): Promise<LoadedImage[]> {
  const index = await json<Index>(store, files, 'index.json');
  if (!Array.isArray(index.manifests)) throw new TsbuildError('BAD_ARCHIVE', 'index.json: no manifests');
  const out: LoadedImage[] = [];
  for (const d of index.manifests) {
    await loadOciDescriptor(store, files, d, true);
    const { tags, refName } = ociNames(d.annotations ?? {});
    const { mediaType, digest, size } = d;
    out.push({ manifestDesc: { mediaType, digest, size }, tags, ...(refName !== undefined ? { refName } : {}) });
  }
  return out;
}

/** loadOciDescriptor stores a manifest (and its blobs) or an index (and those of its children that the archive holds). */
async function loadOciDescriptor(store: ContentStore, files: ArchiveFiles, d: Descriptor, required: boolean): Promise<void> {
  const name = `blobs/sha256/${d.digest.slice('sha256:'.length)}`;
  if (!files.has(name)) {
    if (await store.has(d.digest)) return;
    if (!required) return;
    throw new TsbuildError('BAD_ARCHIVE', `archive has no blob ${d.digest}`);
  }
  const blob = await materialize(store, files, name);
  if (blob.size !== d.size) throw new TsbuildError('DIGEST_MISMATCH', `blob ${d.digest}: ${blob.size} bytes, descriptor says ${d.size}`);
  if (isIndexMediaType(d.mediaType)) {
    const idx = await store.readJson<Index>(d.digest);
    // A multi-platform index may come with only some platforms' blobs.
    for (const c of idx.manifests ?? []) await loadOciDescriptor(store, files, c, false);
    return;
  }
  const m = await store.readJson<Manifest>(d.digest);
  if (!m.config?.digest || !Array.isArray(m.layers)) throw new TsbuildError('BAD_ARCHIVE', `manifest ${d.digest}: not an image manifest`);
  await blobFor(store, files, m.config);
  const config = await store.readJson<ImageConfig>(m.config.digest);
  checkLayerCount(config, m.layers.length, `manifest ${d.digest}`);
  for (const [i, l] of m.layers.entries()) {
    const b = await blobFor(store, files, l);
    if (b && b.diffID !== undefined && l.mediaType !== MediaType.OciLayerZstd && b.diffID !== config.rootfs.diff_ids[i]) {
      throw new TsbuildError('DIGEST_MISMATCH', `layer ${l.digest}: content is ${b.diffID}, config says diff_id ${config.rootfs.diff_ids[i] as DiffID}`);
    }
  }
}

/** blobFor stores the blob a descriptor names from the archive (undefined if the store already had it). */
async function blobFor(store: ContentStore, files: ArchiveFiles, d: Descriptor): Promise<IngestedBlob | undefined> {
  const name = `blobs/sha256/${d.digest.slice('sha256:'.length)}`;
  if (!files.has(name)) {
    if (await store.has(d.digest)) return undefined;
    throw new TsbuildError('BAD_ARCHIVE', `archive has no blob ${d.digest}`);
  }
  const b = await materialize(store, files, name);
  if (b.size !== d.size) throw new TsbuildError('DIGEST_MISMATCH', `blob ${d.digest}: ${b.size} bytes, descriptor says ${d.size}`);
  return b;
}

/** ociNames turns an index entry's annotations into store tags: containerd's full name, or a ref.name that is a full reference. */
function ociNames(a: Record<string, string>): { tags: string[]; refName?: string } {
  const full = a[CONTAINERD_NAME];
  if (full) return { tags: [normalizeTag(full)] };
  const ref = a[REF_NAME];
  if (ref === undefined) return { tags: [] };
  // A bare ref.name ("latest", "v1") is a tag without a repository: the caller may name it.
  if (!ref.includes(':') && !ref.includes('/')) return { tags: [], refName: ref };
  return { tags: [normalizeTag(ref)] };
}
