import { link, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ignoreDamage, type OnDamage } from '../core/damage.ts';
import type { Digest } from '../core/digest.ts';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { MediaType } from '../oci/mediaTypes.ts';
import type { Descriptor, Index } from '../oci/types.ts';
import { tmpName, writeFileAtomic } from './atomicFile.ts';
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
 * to tmp/ and renamed over index.json (readers never see a torn file). The index
 * as it was before the last change is kept (a hard link) at prevPath: an index.json
 * found damaged anyway (empty, cut, garbage: a crash of a tool that writes it in
 * place, a failing disk) is replaced by that copy, or by an empty index when there
 * is no good one (the damaged file is kept beside it), and reported to onDamage.
 */
export class OciTagStore implements TagStore {
  readonly #indexPath: string;
  readonly #prevPath: string;
  readonly #tmpDir: string;
  readonly #onDamage: OnDamage;

  constructor(opts: { layoutDir: string; tmpDir: string; prevPath?: string; onDamage?: OnDamage }) {
    this.#indexPath = join(opts.layoutDir, 'index.json');
    this.#prevPath = opts.prevPath ?? join(dirname(opts.layoutDir), 'index.json.prev');
    this.#tmpDir = opts.tmpDir;
    this.#onDamage = opts.onDamage ?? ignoreDamage;
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
      const idx = await this.#readLocked();
      const before = JSON.stringify(idx);
      fn(idx);
      const after = JSON.stringify(idx);
      if (after === before) return;
      await this.#keepPrevious();
      await writeFileAtomic(this.#tmpDir, this.#indexPath, after);
    });
  }

  /** readIndex parses index.json (an empty index if it does not exist yet); a damaged one is healed first (see the class). */
  async readIndex(): Promise<Index> {
    const r = await readIndexFile(this.#indexPath);
    if (r.kind === 'index') return r.index;
    if (r.kind === 'absent') return emptyIndex();
    return withFileLock(this.#tmpDir, 'index', () => this.#readLocked());
  }

  /**
   * check tells what is wrong with index.json (fsck), healing it as readIndex does when
   * repair is set; undefined when it is sound.
   */
  async check(repair: boolean, onDamage: OnDamage): Promise<string | undefined> {
    const r = await readIndexFile(this.#indexPath);
    if (r.kind !== 'damaged') return undefined;
    if (repair) await withFileLock(this.#tmpDir, 'index', () => this.#readLocked(onDamage));
    else {
      const prev = await readIndexFile(this.#prevPath, false);
      const action = prev.kind === 'index' ? 'would be replaced by the copy from before its last change' : 'would be replaced by an empty index (no good earlier copy)';
      onDamage({ what: 'oci/index.json', problem: r.problem, action, fixed: false });
    }
    return r.problem;
  }

  /** readLocked reads index.json with the lock held, healing a damaged one. */
  async #readLocked(onDamage = this.#onDamage): Promise<Index> {
    const r = await readIndexFile(this.#indexPath);
    if (r.kind === 'index') return r.index;
    if (r.kind === 'absent') return emptyIndex();
    const prev = await readIndexFile(this.#prevPath, false);
    if (prev.kind === 'index') {
      await writeFileAtomic(this.#tmpDir, this.#indexPath, JSON.stringify(prev.index));
      onDamage({ what: 'oci/index.json', problem: r.problem, action: 'replaced by the copy from before its last change (a tag that change set or removed may be lost)', fixed: true });
      return prev.index;
    }
    const kept = join(dirname(this.#prevPath), `index.json.damaged-${Date.now()}`);
    await rename(this.#indexPath, kept);
    await writeFileAtomic(this.#tmpDir, this.#indexPath, JSON.stringify(emptyIndex()));
    onDamage({ what: 'oci/index.json', problem: r.problem, action: `no good earlier copy: replaced by an empty index, its tags are lost (the damaged file is kept as ${kept})`, fixed: true });
    return emptyIndex();
  }

  /** keepPrevious makes prevPath a hard link to the current index.json (the lock is held and it parsed). */
  async #keepPrevious(): Promise<void> {
    const staged = tmpName(this.#tmpDir, 'index');
    try {
      await link(this.#indexPath, staged);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return;
      throw e;
    }
    await rename(staged, this.#prevPath).catch(async (e: unknown) => {
      await unlink(staged).catch(() => undefined);
      throw e;
    });
  }
}

/** IndexFile is what reading an index.json found. */
type IndexFile = { kind: 'index'; index: Index } | { kind: 'absent' } | { kind: 'damaged'; problem: string };

/**
 * readIndexFile parses the index at path: an absent index.json is an empty index (absentOk),
 * an absent copy is no copy; anything unreadable as an index is damage.
 */
async function readIndexFile(path: string, absentOk = true): Promise<IndexFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return absentOk ? { kind: 'index', index: emptyIndex() } : { kind: 'absent' };
    throw new TsbuildError('IO', `read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (text.length === 0) return { kind: 'damaged', problem: 'empty' };
  let idx: Index;
  try {
    idx = JSON.parse(text) as Index;
  } catch {
    return { kind: 'damaged', problem: `not JSON (${text.length} bytes, cut or garbage)` };
  }
  if (typeof idx !== 'object' || idx === null || !Array.isArray(idx.manifests)) return { kind: 'damaged', problem: 'not an image index (no manifests list)' };
  return { kind: 'index', index: idx };
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
