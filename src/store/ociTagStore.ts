import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../core/digest.ts';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { MediaType } from '../oci/mediaTypes.ts';
import type { Descriptor, Index } from '../oci/types.ts';
import { writeFileAtomic } from './atomicFile.ts';
import { withFileLock } from './lock.ts';
import { normalizeTag } from './refs.ts';
import type { IndexEntry, RemoveTagOptions, TagEntry, TagStore } from './types.ts';

/** REF_NAME is the OCI annotation that names a manifest in index.json; skopeo and umoci read it. */
export const REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * OciTagStore keeps tags as index.json entries annotated with REF_NAME = the
 * normalised `name:tag`, so `skopeo inspect oci:LAYOUT:app:1` finds them.
 * An untagged image that must stay usable by id is an entry without REF_NAME:
 * the image layout's own way to list a manifest without naming it, invisible
 * to name lookups (skopeo, umoci).
 * Every mutation is a read-modify-write under an exclusive lock file, written
 * to tmp/ and renamed over index.json (readers never see a torn file).
 */
export class OciTagStore implements TagStore {
  readonly #indexPath: string;
  readonly #tmpDir: string;

  constructor(opts: { layoutDir: string; tmpDir: string }) {
    this.#indexPath = join(opts.layoutDir, 'index.json');
    this.#tmpDir = opts.tmpDir;
  }

  async list(): Promise<TagEntry[]> {
    const idx = await this.readIndex();
    const out: TagEntry[] = [];
    for (const m of idx.manifests) {
      const name = m.annotations?.[REF_NAME];
      if (name !== undefined) out.push({ name, descriptor: m });
    }
    return out;
  }

  async entries(): Promise<IndexEntry[]> {
    return (await this.readIndex()).manifests.map((m) => ({ name: m.annotations?.[REF_NAME], descriptor: m }));
  }

  async get(name: string): Promise<Descriptor | undefined> {
    const n = normalizeTag(name);
    return (await this.readIndex()).manifests.find((m) => m.annotations?.[REF_NAME] === n);
  }

  async set(name: string, desc: Descriptor): Promise<void> {
    const n = normalizeTag(name);
    const entry: Descriptor = { ...desc, annotations: { ...desc.annotations, [REF_NAME]: n } };
    const named = (idx: Index) => {
      const same = idx.manifests.find((m) => m.annotations?.[REF_NAME] === n);
      return same !== undefined && JSON.stringify(same) === JSON.stringify(entry) && !idx.manifests.some((m) => isUntaggedOf(m, desc.digest));
    };
    // A rebuild tags what the tag names already: no lock, no write (as if it had
    // happened at this read, before any concurrent change).
    if (named(await this.readIndex())) return;
    await this.update((idx) => {
      if (named(idx)) return;
      idx.manifests = idx.manifests.filter((m) => m.annotations?.[REF_NAME] !== n && !isUntaggedOf(m, desc.digest));
      idx.manifests.push(entry);
    });
  }

  async remove(name: string, opts: RemoveTagOptions = {}): Promise<boolean> {
    const n = normalizeTag(name);
    let found = false;
    await this.update((idx) => {
      const i = idx.manifests.findIndex((m) => m.annotations?.[REF_NAME] === n);
      if (i < 0) return;
      found = true;
      const [gone] = idx.manifests.splice(i, 1) as [Descriptor];
      if (opts.keepImage && !idx.manifests.some((m) => m.digest === gone.digest)) idx.manifests.push(withoutName(gone));
    });
    return found;
  }

  async keep(desc: Descriptor): Promise<void> {
    await this.update((idx) => {
      if (!idx.manifests.some((m) => m.digest === desc.digest)) idx.manifests.push(withoutName(desc));
    });
  }

  async forget(d: Digest): Promise<boolean> {
    let found = false;
    await this.update((idx) => {
      const before = idx.manifests.length;
      idx.manifests = idx.manifests.filter((m) => !isUntaggedOf(m, d));
      found = idx.manifests.length !== before;
    });
    return found;
  }

  /**
   * update applies fn to index.json under the lock and writes the result atomically,
   * unless it is unchanged (a rebuild tagging the image it had tagged before).
   */
  async update(fn: (idx: Index) => void): Promise<void> {
    await withFileLock(this.#tmpDir, 'index', async () => {
      const idx = await this.readIndex();
      const before = JSON.stringify(idx);
      fn(idx);
      const after = JSON.stringify(idx);
      if (after !== before) await writeFileAtomic(this.#tmpDir, this.#indexPath, after);
    });
  }

  /** readIndex parses index.json (an empty index if it does not exist yet). */
  async readIndex(): Promise<Index> {
    let text: string;
    try {
      text = await readFile(this.#indexPath, 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return emptyIndex();
      throw e;
    }
    try {
      const idx = JSON.parse(text) as Index;
      if (!Array.isArray(idx.manifests)) throw new Error('no manifests array');
      return idx;
    } catch (e) {
      throw new TsbuildError('STORE_CORRUPT', `read ${this.#indexPath}: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** emptyIndex is the index.json of a fresh layout. */
export function emptyIndex(): Index {
  return { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
}

function isUntaggedOf(m: Descriptor, d: Digest): boolean {
  return m.digest === d && m.annotations?.[REF_NAME] === undefined;
}

/** withoutName is desc as an untagged entry: the same descriptor without REF_NAME. */
function withoutName(desc: Descriptor): Descriptor {
  const { [REF_NAME]: _name, ...rest } = desc.annotations ?? {};
  const { annotations: _a, ...bare } = desc;
  return Object.keys(rest).length ? { ...bare, annotations: rest } : bare;
}
