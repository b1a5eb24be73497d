// Deferred durability for blobs. A build (or a push) writes blobs without an fsync
// each: the fsyncs were a third of a small incremental rebuild (four in a row: the
// COPY's layer, the RUN's, the config, the manifest) and, on a cold push, the
// compressed blob's fsync competed with the registry's own for the disk. Instead:
//
//  1. Before the first blob is renamed into blobs/ unsynced, the process makes a
//     marker durable: ROOT/unsynced/<boot id>-<owner id>-<random>, holding the boot id,
//     the id this process is alive by (liveness.ts) and a time a little before now
//     ("blobs written after this may be torn").
//  2. At the end, flush() hands the marker (and the snapshots' markers) to one
//     detached syncfs(2), which deletes them once the file system is durable; the
//     command does not wait for the disk.
//  3. Page-cache data survives anything but an OS crash. After one, a marker of
//     another boot is left: recoverUnsynced (every openStore) re-hashes the blobs
//     written since its time, deletes those that do not match their name, drops
//     the tags whose manifest went with them, and removes the marker. A cache
//     record whose layer is gone is a miss (lookupRecord checks the blob), so the
//     next build makes it again.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ignoreDamage, type OnDamage } from '../core/damage.ts';
import type { Digest } from '../core/digest.ts';
import { isErrno } from '../core/errors.ts';
import { isAlive, ownId } from './liveness.ts';
import { DIR_MODE, FILE_MODE } from './permissions.ts';
import type { ContentStore, TagStore } from './types.ts';

/**
 * INLINE_BYTES: a flush with no snapshot to sync and at most this much in unsynced blobs
 * fsyncs them itself (a few small files: one journal commit) rather than starting the
 * detached syncer, whose start (~30 ms) is most of a small COPY-only rebuild.
 */
const INLINE_BYTES = 16 << 20;

/** SLACK_MS is how far before its creation a marker's time is put, against clock steps. */
const SLACK_MS = 10 * 60 * 1000;

/** FlushFn syncs the file system holding path, later, then deletes the files in done (sys/mount.ts syncFsLater). */
export type FlushFn = (path: string, done: readonly string[]) => Promise<void>;

interface Marker {
  boot: string;
  /** The writer's id (liveness.ts): a marker of this boot whose owner is gone is an orphan. */
  owner: string;
  since: number;
}

/**
 * DeferredSync is one process's promise to make its unsynced blobs durable: begin()
 * before the first rename of an unsynced blob, note() for other markers (the
 * snapshots'), flush() once at the end.
 */
export class DeferredSync {
  readonly dir: string;
  readonly #root: string;
  readonly #tmpDir: string;
  readonly #flush: FlushFn;
  #marker: Promise<string> | undefined;
  #notes: string[] = [];
  /** The unsynced blobs renamed into place since the last flush, and their total size. */
  #blobs = new Set<string>();
  #bytes = 0;

  constructor(root: string, flush: FlushFn) {
    this.#root = root;
    this.dir = join(root, 'unsynced');
    this.#tmpDir = join(root, 'tmp');
    this.#flush = flush;
  }

  /** begin makes this process's marker durable, once; resolves when an unsynced blob may be renamed into place. */
  begin(): Promise<string> {
    this.#marker ??= this.#create();
    return this.#marker;
  }

  async #create(): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
    const owner = ownId(this.#tmpDir);
    const path = join(this.dir, `${bootId()}-${owner}-${randomBytes(4).toString('hex')}`);
    const fh = await open(path, 'wx', FILE_MODE);
    try {
      await fh.writeFile(JSON.stringify({ boot: bootId(), owner, since: Date.now() - SLACK_MS } satisfies Marker));
      await fh.sync();
    } finally {
      await fh.close();
    }
    // The marker's name must be durable too, before any blob's.
    const d = await open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    return path;
  }

  /** wrote records an unsynced blob about to be renamed to dest (after begin()). */
  wrote(dest: string, size: number): void {
    if (this.#blobs.has(dest)) return;
    this.#blobs.add(dest);
    this.#bytes += size;
  }

  /** note adds a marker file to delete once the file system is durable. */
  note(...markers: string[]): void {
    this.#notes.push(...markers);
  }

  /**
   * flush starts the detached sync for everything written unsynced so far (this
   * process's marker, the noted ones, and markers of this boot whose processes died
   * before their flush), and starts afresh: a later unsynced blob makes a new marker.
   */
  async flush(): Promise<void> {
    const own = this.#marker ? [await this.#marker] : [];
    const orphans = await this.#orphans(own);
    const notes = this.#notes;
    const blobs = [...this.#blobs];
    const inline = notes.length === 0 && orphans.length === 0 && this.#bytes <= INLINE_BYTES;
    this.#notes = [];
    this.#marker = undefined;
    this.#blobs = new Set();
    this.#bytes = 0;
    if (inline) {
      // Each blob's data, then their directory entries; the marker can go after that.
      await Promise.all(blobs.map((b) => fsyncPath(b)));
      if (blobs.length) await fsyncPath(dirname(blobs[0]!));
      await Promise.all(own.map((m) => unlink(m).catch(() => undefined)));
      return;
    }
    const done = [...notes, ...own, ...orphans];
    if (done.length) await this.#flush(this.#root, done);
  }

  /** orphans are this boot's markers of processes that are gone (in any PID namespace): the syncfs about to start covers their writes. */
  async #orphans(own: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const path = join(this.dir, name);
      if (own.includes(path)) continue;
      const m = await readMarker(path);
      if (m && m.boot === bootId() && !(await isAlive(this.#tmpDir, m.owner))) out.push(path);
    }
    return out;
  }
}

/**
 * recoverUnsynced checks the markers other boots left (an OS crash came before their
 * sync): every blob written since a marker's time is re-hashed, a blob that does not
 * match its name is deleted, index entries whose manifest is gone are dropped (each
 * reported to onDamage), and the marker is removed. Returns the deleted digests. Costs
 * one readdir when there is none.
 */
export async function recoverUnsynced(root: string, content: ContentStore, tags: TagStore, onDamage: OnDamage = ignoreDamage): Promise<Digest[]> {
  const dir = join(root, 'unsynced');
  const names = await readdir(dir).catch((e: unknown) => { if (isErrno(e, 'ENOENT')) return [] as string[]; throw e; });
  const stale: { path: string; since: number }[] = [];
  for (const name of names) {
    if (name.startsWith(`${bootId()}-`)) continue;
    const path = join(dir, name);
    // A marker that was never fully written is older than anything it would cover: check everything.
    stale.push({ path, since: (await readMarker(path))?.since ?? 0 });
  }
  if (stale.length === 0) return [];
  const since = Math.min(...stale.map((s) => s.since));
  const removed: Digest[] = [];
  for (const d of await content.list()) {
    const st = await stat(content.path(d)).catch(() => undefined);
    if (!st || st.mtimeMs < since) continue;
    if ((await content.check(d)) === 'damaged') {
      await content.delete(d);
      removed.push(d);
      onDamage({ what: `blob ${d}`, problem: 'torn by an OS crash before it was synced', action: 'removed', fixed: true });
    }
  }
  if (removed.length) {
    for (const e of await tags.entries()) {
      if (!(await content.has(e.descriptor.digest))) {
        if (e.name !== undefined) await tags.remove(e.name);
        else await tags.forget(e.descriptor.digest);
        onDamage({ what: e.name !== undefined ? `tag ${e.name}` : `untagged image ${e.descriptor.digest}`, problem: `its manifest ${e.descriptor.digest} was torn by an OS crash`, action: 'removed', fixed: true });
      }
    }
  }
  for (const s of stale) await unlink(s.path).catch(() => undefined);
  return removed;
}

async function readMarker(path: string): Promise<Marker | undefined> {
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as Partial<Marker>;
    return typeof m.boot === 'string' && typeof m.owner === 'string' && typeof m.since === 'number' ? (m as Marker) : undefined;
  } catch {
    return undefined;
  }
}

/** fsyncPath fsyncs a file or directory by path; one that is gone (a rename that lost a race) is skipped. */
async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r').catch((e: unknown) => { if (isErrno(e, 'ENOENT')) return undefined; throw e; });
  if (!fh) return;
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

let boot: string | undefined;

/** bootId is this boot's random id (the kernel's): data marked unsynced by another boot may be torn. */
export function bootId(): string {
  boot ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return boot;
}
