import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OnDamage } from '../core/damage.ts';
import { isDigest, type Digest, type DiffID } from '../core/digest.ts';
import { CacheStore } from '../cache/CacheStore.ts';
import { ContainerStore } from '../containers/ContainerStore.ts';
import { StatCache } from '../context/StatCache.ts';
import { isIndexMediaType } from '../oci/mediaTypes.ts';
import type { Descriptor, ImageConfig, Index, Manifest } from '../oci/types.ts';
import { checkSnapshots } from '../snapshot/checkSnapshots.ts';
import { cleanupStaleTmp } from '../snapshot/mounts.ts';
import { SIBLING_TMP, writeFileAtomic } from '../store/atomicFile.ts';
import { isAlive } from '../store/liveness.ts';
import { openStore } from '../store/openStore.ts';
import type { LocalStore } from '../store/types.ts';

/** CheckStoreOptions tune checkStore. */
export interface CheckStoreOptions {
  /** Repair what can be repaired (else only report: a dry run). */
  repair: boolean;
  /** Also compare every snapshot's files with its layer (reads everything). */
  content: boolean;
  /** Told about each problem found, and what was done. */
  onDamage: OnDamage;
}

/** CheckStoreSummary counts what was checked. */
export interface CheckStoreSummary {
  blobs: number;
  images: number;
  records: number;
  snapshots: number;
  compared: number;
  containers: number;
}

/**
 * checkStore checks the store at root for damage (`tsbuild fsck`) in an order that lets
 * one repair feed the next: leftovers of dead processes in tmp/ and cache/; oci-layout and
 * index.json; every blob hashed against its digest (a damaged one is removed); index.json
 * entries whose manifest is gone (removed) or whose config or layers are gone (left:
 * they need a pull, load or import); cache records whose layer blob is gone or cut;
 * snapshots (metadata, and with content their files against their layer); stat caches;
 * container records (left: they hold user data). Each problem goes to onDamage.
 * Opening the store first recovers from an OS crash (recoverUnsynced), as every command does.
 */
export async function checkStore(root: string, opts: CheckStoreOptions): Promise<CheckStoreSummary> {
  const store = await openStore(root, { onDamage: opts.onDamage });
  const report: Report = (what, problem, done, repairable = true) => {
    if (!repairable) opts.onDamage({ what, problem, action: done, fixed: false });
    else opts.onDamage({ what, problem, action: opts.repair ? done : `would be ${done}`, fixed: opts.repair });
  };
  for (const name of await cleanupStaleTmp(store.dirs.tmp, { dryRun: !opts.repair })) report(`tmp/${name}`, 'left by a process that is gone', 'removed');
  await staleCacheTemps(store.dirs.cache, store.dirs.tmp, opts.repair, report);
  await checkLayout(store, opts.repair, report);
  const indexProblem = await store.tags.check(opts.repair, opts.onDamage);
  const sound = await checkBlobs(store, opts.repair, report);
  const layers = new Map<DiffID, Digest>();
  const images = indexProblem !== undefined && !opts.repair ? 0 : await checkImages(store, sound, layers, opts.repair, report);
  const cache = new CacheStore(store.dirs.root, { onDamage: opts.onDamage });
  const records = await cache.check({
    repair: opts.repair,
    onDamage: opts.onDamage,
    layerOk: async (rec) => {
      if (!rec.layer) return undefined;
      const size = sound.get(rec.layer.digest);
      if (size === undefined) return `layer blob ${rec.layer.digest} is missing`;
      return size === rec.layer.size ? undefined : `layer blob ${rec.layer.digest} is ${size} bytes, recorded as ${rec.layer.size}`;
    },
  });
  for (const r of records) if (r.layer) layers.set(r.layer.diffID, r.layer.digest);
  const snaps = await checkSnapshots(store.dirs.root, {
    repair: opts.repair,
    onDamage: opts.onDamage,
    ...(opts.content ? { openLayer: (id: DiffID) => {
      const d = layers.get(id) ?? (sound.has(id as string as Digest) ? (id as string as Digest) : undefined);
      return d === undefined ? undefined : () => store.content.open(d);
    } } : {}),
  });
  await checkStatCaches(store.dirs.cache, opts.repair, report);
  const containers = new ContainerStore(store);
  const damagedContainers = await containers.check(opts.onDamage);
  return { blobs: sound.size, images, records: records.length, snapshots: snaps.snapshots, compared: snaps.compared, containers: damagedContainers };
}

/** Report tells onDamage about a problem and what was (or, in a dry run, would be) done; repairable false: nothing can be. */
type Report = (what: string, problem: string, done: string, repairable?: boolean) => void;

/**
 * staleCacheTemps: files `NAME.<owner id>.<x>.tmp` (siblingTmpName) in cache/,
 * cache/compressed/ and cache/blobsources/ whose writer is gone by its liveness socket
 * (store/liveness.ts): the staging of the stat cache, the compressed layer records and
 * the blob source records, which write next to their file.
 */
async function staleCacheTemps(cacheDir: string, tmpDir: string, repair: boolean, report: Report): Promise<void> {
  for (const sub of ['', 'compressed', 'blobsources']) {
    const dir = join(cacheDir, sub);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const m = SIBLING_TMP.exec(name);
      if (!m || (await isAlive(tmpDir, m[1]!))) continue;
      if (repair) await rm(join(dir, name), { force: true });
      report(join('cache', sub, name), 'left by a process that is gone', 'removed');
    }
  }
}

/** checkLayout: oci/oci-layout must say which layout version this is (skopeo and umoci read it). */
async function checkLayout(store: LocalStore, repair: boolean, report: Report): Promise<void> {
  const path = join(store.dirs.oci, 'oci-layout');
  const text = await readFile(path, 'utf8').catch(() => '');
  try {
    if (typeof (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion === 'string') return;
  } catch {
    // damaged: rewritten below
  }
  if (repair) await writeFileAtomic(store.dirs.tmp, path, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  report('oci/oci-layout', text === '' ? 'empty' : 'not an image layout marker', 'rewritten');
}

/**
 * checkBlobs hashes every blob: one that does not match its digest is removed, and a file
 * in blobs/sha256/ that is not named by a digest too. Returns the sound blobs and their sizes.
 */
async function checkBlobs(store: LocalStore, repair: boolean, report: Report): Promise<Map<Digest, number>> {
  const dir = join(store.dirs.oci, 'blobs', 'sha256');
  const sound = new Map<Digest, number>();
  for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
    const d = `sha256:${name}` as Digest;
    if (!isDigest(d)) {
      if (repair) await rm(join(dir, name), { recursive: true, force: true });
      report(`oci/blobs/sha256/${name}`, 'not named by a digest', 'removed');
      continue;
    }
    if ((await store.content.check(d)) === 'sound') {
      sound.set(d, await store.content.size(d));
      continue;
    }
    if (repair) await store.content.delete(d);
    report(`blob ${d}`, 'content does not match its digest', 'removed; built or fetched again when needed');
  }
  return sound;
}

/**
 * checkImages checks each index.json entry: one whose manifest blob is gone names nothing
 * and is removed; one whose config or a layer is gone is reported and left (a pull, load or
 * import brings it back; `tsbuild rmi` drops it). Collects each layer's DiffID → blob.
 */
async function checkImages(store: LocalStore, sound: Map<Digest, number>, layers: Map<DiffID, Digest>, repair: boolean, report: Report): Promise<number> {
  const entries = await store.tags.entries();
  for (const { name, descriptor } of entries) {
    const what = name !== undefined ? `tag ${name}` : `untagged image ${descriptor.digest}`;
    if (!isDigest(descriptor.digest) || !sound.has(descriptor.digest)) {
      if (repair) await (name !== undefined ? store.tags.remove(name) : store.tags.forget(descriptor.digest));
      report(what, `manifest ${descriptor.digest} is missing`, 'removed');
      continue;
    }
    const problem = await imageProblem(store, descriptor, sound, layers);
    if (problem !== undefined) report(what, problem, "left: pull, load or import the image again, or remove it with 'tsbuild rmi'", false);
  }
  return entries.length;
}

/** imageProblem names a blob the image (its linux/amd64 manifest for an index) needs and the store lacks. */
async function imageProblem(store: LocalStore, desc: Descriptor, sound: Map<Digest, number>, layers: Map<DiffID, Digest>): Promise<string | undefined> {
  let m = desc;
  if (isIndexMediaType(desc.mediaType)) {
    const pick = (await store.content.readJson<Index>(desc.digest)).manifests?.find((c) => c.platform?.os === 'linux' && c.platform.architecture === 'amd64');
    if (!pick) return undefined;
    if (!sound.has(pick.digest)) return `manifest ${pick.digest} is missing`;
    m = pick;
  }
  const manifest = await store.content.readJson<Manifest>(m.digest);
  const cfg = manifest.config?.digest;
  if (!cfg || !sound.has(cfg)) return `config ${cfg ?? '(none)'} is missing`;
  const diffIDs = (await store.content.readJson<ImageConfig>(cfg)).rootfs?.diff_ids ?? [];
  for (const [i, l] of (manifest.layers ?? []).entries()) {
    if (!sound.has(l.digest)) return `layer ${l.digest} is missing`;
    if (diffIDs[i] !== undefined) layers.set(diffIDs[i]!, l.digest);
  }
  return undefined;
}

/** checkStatCaches: a build context's stat cache that is torn is removed (the next build hashes the files again). */
async function checkStatCaches(cacheDir: string, repair: boolean, report: Report): Promise<void> {
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (!/^statcache-[0-9a-f]+\.bin$/.test(name) || StatCache.isIntact(join(cacheDir, name))) continue;
    if (repair) await rm(join(cacheDir, name), { force: true });
    report(`cache/${name}`, 'torn or of an older version', 'removed; the context is hashed again');
  }
}
