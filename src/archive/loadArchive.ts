import type { Readable } from 'node:stream';
import { TsbuildError } from '../core/errors.ts';
import { hexOf, type Digest } from '../core/digest.ts';
import { canonicalJson } from '../oci/canonicalJson.ts';
import { MediaType, isIndexMediaType } from '../oci/mediaTypes.ts';
import { parseImageConfig, parseIndex, parseJsonBytes, parseManifest, type JsonSource } from '../oci/parseJson.ts';
import type { Descriptor, ImageConfig, Manifest } from '../oci/types.ts';
import { normalizeTag } from '../store/refs.ts';
import { StagingStore } from '../store/staging.ts';
import type { ContentStore, LocalStore } from '../store/types.ts';
import type { IngestedBlob } from './ingest.ts';
import { materialize, readArchive, readJsonBlob, readJsonFile, type ArchiveFiles } from './readArchive.ts';

/** LoadTarget is where loaded images go: blobs, tags, and tmp/ to stage them in (a LocalStore fits). */
export type LoadTarget = Pick<LocalStore, 'content' | 'tags' | 'dirs'>;

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
 * tar.gz, in one streaming pass. Every digest in its JSON is parsed (oci/parseJson.ts)
 * before it names anything, and every blob is verified: names that are digests must
 * match, and each layer's uncompressed digest must equal the config's diff_id.
 * Layers are kept as they come (plain tar or gzip). All or nothing: blobs are staged
 * in tmp/ (StagingStore) and enter the store only once the whole archive checked out;
 * tags are set last. A failed load leaves the store as it was.
 */
export async function loadArchive(target: LoadTarget, input: Readable): Promise<LoadResult> {
  // No await before readArchive listens to input: an early error must not go unheard.
  const staging = StagingStore.open(target);
  let images: LoadedImage[];
  try {
    const files = await readArchive(staging, input);
    if (files.has('manifest.json')) images = await loadDocker(staging, files);
    else if (files.has('index.json')) images = await loadOci(staging, files);
    else throw new TsbuildError('BAD_ARCHIVE', 'archive has neither manifest.json (docker-archive) nor index.json (OCI archive)');
    await staging.publish();
  } catch (e) {
    await staging.discard();
    throw e;
  }
  for (const img of images) for (const t of img.tags) await target.tags.set(t, img.manifestDesc);
  return { images, tags: images.flatMap((i) => i.tags) };
}

const source = (what: string): JsonSource => ({ what, code: 'BAD_ARCHIVE' });

/** blobName is where an OCI archive keeps a blob. */
const blobName = (d: Digest) => `blobs/sha256/${hexOf(d)}`;

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** parseDockerManifest checks manifest.json: a list of {Config, Layers, RepoTags?} with file names and tags as strings. */
function parseDockerManifest(v: unknown): DockerManifestEntry[] {
  if (!Array.isArray(v)) throw new TsbuildError('BAD_ARCHIVE', 'manifest.json: want a list of images');
  return v.map((e: unknown, i) => {
    const at = `manifest.json: [${i}]`;
    const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    if (typeof o.Config !== 'string') throw new TsbuildError('BAD_ARCHIVE', `${at}.Config: want a file name`);
    if (!Array.isArray(o.Layers) || !o.Layers.every((l) => typeof l === 'string')) throw new TsbuildError('BAD_ARCHIVE', `${at}.Layers: want a list of file names`);
    const tags = o.RepoTags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new TsbuildError('BAD_ARCHIVE', `${at}.RepoTags: want a list of names`);
    return { Config: o.Config, Layers: o.Layers as string[], RepoTags: tags as string[] };
  });
}

/** readConfig reads and checks an image config blob (its diff_ids name snapshot directories later). */
async function readConfig(store: ContentStore, d: Digest, what: string): Promise<ImageConfig> {
  return parseImageConfig(parseJsonBytes(await readJsonBlob(store, d, what), source(what)), source(what));
}

async function loadDocker(store: ContentStore, files: ArchiveFiles): Promise<LoadedImage[]> {
  const entries = parseDockerManifest(await readJsonFile(store, files, 'manifest.json'));
  const out: LoadedImage[] = [];
  for (const [i, e] of entries.entries()) {
    const at = `manifest.json: [${i}]`;
    const cfgBlob = await materialize(store, files, e.Config, `${at}.Config`);
    const config = await readConfig(store, cfgBlob.digest, e.Config);
    const layers: Descriptor[] = [];
    for (const [j, name] of e.Layers.entries()) {
      layers.push(layerDescriptor(await materialize(store, files, name, `${at}.Layers[${j}]`), config, j, `${at}.Layers[${j}] "${name}"`));
    }
    checkLayerCount(config, layers.length, e.Config);
    // Same manifest form as the store's writeImage, so a tsbuild image saved and loaded keeps its manifest digest.
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: cfgBlob.digest, size: cfgBlob.size },
      layers,
    };
    const m = await store.putBytes(canonicalJson(manifest));
    out.push({ manifestDesc: { mediaType: MediaType.OciManifest, digest: m.digest, size: m.size }, tags: e.RepoTags.map((t) => normalizeTag(t)) });
  }
  return out;
}

function layerDescriptor(b: IngestedBlob, config: ImageConfig, i: number, at: string): Descriptor {
  const want = config.rootfs.diff_ids[i];
  if (b.compression !== 'none' && b.compression !== 'gzip') throw new TsbuildError('BAD_ARCHIVE', `${at}: ${b.compression} layers are not supported`);
  if (b.diffID !== want) throw new TsbuildError('DIGEST_MISMATCH', `${at}: content is ${b.diffID}, config says diff_id ${want ?? '(none)'}`);
  return { mediaType: b.compression === 'gzip' ? MediaType.OciLayerGzip : MediaType.OciLayer, digest: b.digest, size: b.size };
}

function checkLayerCount(config: ImageConfig, n: number, what: string): void {
  const have = config.rootfs.diff_ids.length;
  if (have !== n) throw new TsbuildError('BAD_ARCHIVE', `${what}: config lists ${have} diff_ids for ${n} layers`);
}

async function loadOci(store: ContentStore, files: ArchiveFiles): Promise<LoadedImage[]> {
  const index = parseIndex(await readJsonFile(store, files, 'index.json'), source('index.json'));
  const out: LoadedImage[] = [];
  for (const [i, d] of index.manifests.entries()) {
    await loadOciDescriptor(store, files, d, true, `index.json: manifests[${i}]`);
    const { tags, refName } = ociNames(d.annotations ?? {});
    const { mediaType, digest, size } = d;
    out.push({ manifestDesc: { mediaType, digest, size }, tags, ...(refName !== undefined ? { refName } : {}) });
  }
  return out;
}

/**
 * loadOciDescriptor stores a manifest (and its blobs) or an index (and those of its
 * children that the archive holds). `at` names the descriptor for errors.
 */
async function loadOciDescriptor(store: ContentStore, files: ArchiveFiles, d: Descriptor, required: boolean, at: string): Promise<void> {
  const name = blobName(d.digest);
  if (!files.has(name)) {
    if (await store.has(d.digest)) return;
    if (!required) return;
    throw new TsbuildError('BAD_ARCHIVE', `${at}: archive has no blob ${d.digest}`);
  }
  const blob = await materialize(store, files, name, at);
  if (blob.size !== d.size) throw new TsbuildError('DIGEST_MISMATCH', `${at}: blob ${d.digest}: ${blob.size} bytes, descriptor says ${d.size}`);
  const doc = parseJsonBytes(await readJsonBlob(store, d.digest, name), source(name));
  if (isIndexMediaType(d.mediaType)) {
    const idx = parseIndex(doc, source(name));
    // A multi-platform index may come with only some platforms' blobs.
    for (const [i, c] of idx.manifests.entries()) await loadOciDescriptor(store, files, c, false, `${name}: manifests[${i}]`);
    return;
  }
  const m = parseManifest(doc, source(name));
  await blobFor(store, files, m.config, `${name}: config`);
  const config = await readConfig(store, m.config.digest, blobName(m.config.digest));
  checkLayerCount(config, m.layers.length, name);
  for (const [i, l] of m.layers.entries()) {
    const b = await blobFor(store, files, l, `${name}: layers[${i}]`);
    if (b && b.diffID !== undefined && l.mediaType !== MediaType.OciLayerZstd && b.diffID !== config.rootfs.diff_ids[i]) {
      throw new TsbuildError('DIGEST_MISMATCH', `${name}: layers[${i}]: content is ${b.diffID}, config says diff_id ${config.rootfs.diff_ids[i]}`);
    }
  }
}

/** blobFor stores the blob a descriptor names from the archive (undefined if the store already had it). */
async function blobFor(store: ContentStore, files: ArchiveFiles, d: Descriptor, at: string): Promise<IngestedBlob | undefined> {
  const name = blobName(d.digest);
  if (!files.has(name)) {
    if (await store.has(d.digest)) return undefined;
    throw new TsbuildError('BAD_ARCHIVE', `${at}: archive has no blob ${d.digest}`);
  }
  const b = await materialize(store, files, name, at);
  if (b.size !== d.size) throw new TsbuildError('DIGEST_MISMATCH', `${at}: blob ${d.digest}: ${b.size} bytes, descriptor says ${d.size}`);
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
