import { closeSync, constants, openSync, readSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { DiffID } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import { displayName, osPath, sortNames } from '../core/names.ts';
import { MediaType } from '../oci/mediaTypes.ts';
import type { ContentStore } from '../store/types.ts';
import { END_OF_ARCHIVE, encodeHeader, paddingFor, type TarHeader } from './tarFormat.ts';
import { destroyOnAbort } from './destroyOnAbort.ts';
import type { LayerBlob } from './types.ts';

/** TarTreeMeta is an entry's metadata; mtimeMs in milliseconds (the tar keeps whole seconds). */
export interface TarTreeMeta {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeMs: number;
}

/** TarTreeFile is a regular file read from source; nodes sharing one TarTreeFile are hard links. */
export interface TarTreeFile extends TarTreeMeta {
  readonly source: string;
  readonly size: number;
}

/** TarTreeNode is one path of a layer described in memory (context/planCopy.ts makes them); names, targets and sources are name strings (core/names.ts). */
export type TarTreeNode =
  | { readonly kind: 'dir'; readonly meta: TarTreeMeta; readonly children: ReadonlyMap<string, TarTreeNode> }
  | { readonly kind: 'file'; readonly file: TarTreeFile }
  | { readonly kind: 'symlink'; readonly meta: TarTreeMeta; readonly target: string };

/** TarTree is the root of such a layer; the root itself is not an entry. */
export type TarTree = Extract<TarTreeNode, { kind: 'dir' }>;

/** TreeTarOptions tune writeTreeTar. */
export interface TreeTarOptions {
  /** Clamp every mtime to at most this (seconds since the epoch): SOURCE_DATE_EPOCH. */
  sourceDateEpoch?: number;
  /** commitTree: stop writing (nothing is stored) once aborted. */
  signal?: AbortSignal;
}

const BATCH = 1 << 20;
const YIELD_EVERY = 2000;

/**
 * writeTreeTar streams the layer described by tree to out, byte for byte as writeLayerTar
 * would write the same tree from a directory: children sorted by name bytes, a directory
 * before its contents, numeric ids, whole-second mtimes (clamped), the first path of a hard
 * link group as the file and the others as Link entries. File contents are read from their
 * source (never following a final symlink) into 1 MiB batches with synchronous reads, while
 * the previous batch is being written; a file shorter than planned fails the write. out is
 * not ended. Returns how many entries and bytes were written.
 */
export async function writeTreeTar(tree: TarTree, out: Writable, opts: TreeTarOptions = {}): Promise<{ entries: number; size: number }> {
  const w = new BatchWriter(out, opts.sourceDateEpoch);
  await w.dir(tree, '');
  w.put(END_OF_ARCHIVE);
  await w.flush();
  await w.settle();
  return { entries: w.entries, size: w.size };
}

/**
 * commitTree stores tree's layer tar as an uncompressed blob (hashed while written; nothing
 * enters the store unless complete). Returns null, storing nothing, for a tree with no entry.
 */
export async function commitTree(store: ContentStore, tree: TarTree, opts: TreeTarOptions = {}): Promise<LayerBlob | null> {
  if (tree.children.size === 0) return null;
  const w = await store.writer();
  const stopListening = destroyOnAbort(w.stream, opts.signal);
  try {
    await writeTreeTar(tree, w.stream, opts);
    const { digest, size } = await w.commit();
    return { diffID: digest as string as DiffID, digest, size, mediaType: MediaType.OciLayer };
  } catch (e) {
    await w.abort();
    throw e;
  } finally {
    stopListening();
  }
}

class BatchWriter {
  entries = 0;
  size = 0;
  #buf: Buffer = Buffer.allocUnsafe(BATCH);
  readonly #free: Buffer[] = [];
  #used = 0;
  #inflight: Promise<void> | null = null;
  /** A batch was handed over while an earlier one still waited for 'drain'. */
  #over = false;
  readonly #links = new Map<TarTreeFile, string>();
  #n = 0;

  constructor(private readonly out: Writable, private readonly epoch: number | undefined) {}

  async dir(node: TarTree, rel: string): Promise<void> {
    const names = sortNames([...node.children.keys()]);
    for (const name of names) {
      if (++this.#n % YIELD_EVERY === 0) await yieldToLoop();
      if (this.#over) await this.settle(); // many headers in a row: bound what waits in out
      const child = node.children.get(name)!;
      const path = rel === '' ? name : `${rel}/${name}`;
      await this.entry(child, path);
    }
  }

  async entry(node: TarTreeNode, path: string): Promise<void> {
    if (node.kind === 'dir') {
      this.header({ path, kind: 'dir', ...this.meta(node.meta), size: 0 });
      return this.dir(node, path);
    }
    if (node.kind === 'symlink') {
      this.header({ path, kind: 'symlink', ...this.meta(node.meta), size: 0, linkpath: node.target });
      return;
    }
    const f = node.file;
    const first = this.#links.get(f);
    if (first !== undefined) {
      this.header({ path, kind: 'hardlink', ...this.meta(f), size: 0, linkpath: first });
      return;
    }
    this.#links.set(f, path);
    this.header({ path, kind: 'file', ...this.meta(f), size: f.size });
    await this.body(f);
  }

  meta(m: TarTreeMeta): Pick<TarHeader, 'mode' | 'uid' | 'gid' | 'mtime'> {
    const t = Math.floor(m.mtimeMs / 1000);
    return { mode: m.mode & 0o7777, uid: m.uid, gid: m.gid, mtime: this.epoch !== undefined && t > this.epoch ? this.epoch : t };
  }

  header(h: TarHeader): void {
    this.entries++;
    this.put(encodeHeader(h));
  }

  /** body copies a file's content (and padding) into the batches. */
  async body(f: TarTreeFile): Promise<void> {
    if (f.size === 0) return;
    const fd = openSync(osPath(f.source), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      let pos = 0;
      while (pos < f.size) {
        if (this.#used === BATCH) await this.flush();
        const want = Math.min(BATCH - this.#used, f.size - pos);
        const got = readSync(fd, this.#buf, this.#used, want, pos);
        if (got === 0) throw new TsbuildError('IO', `layer tar: ${displayName(f.source)} changed size while being archived`);
        this.#used += got;
        pos += got;
      }
    } finally {
      closeSync(fd);
    }
    const pad = paddingFor(f.size);
    if (pad) this.put(Buffer.alloc(pad));
  }

  /** put appends bytes to the batch, handing full batches to out (see #rotate). */
  put(b: Buffer): void {
    let off = 0;
    while (off < b.length) {
      if (this.#used === BATCH) this.#rotate();
      const n = Math.min(b.length - off, BATCH - this.#used);
      b.copy(this.#buf, this.#used, off, off + n);
      this.#used += n;
      off += n;
    }
  }

  /** rotate hands a full batch to out without waiting (put is synchronous); back-pressure is honoured at the next flush. */
  #rotate(): void {
    const buf = this.#buf;
    const used = this.#used;
    this.#buf = this.#free.pop() ?? Buffer.allocUnsafe(BATCH);
    this.#used = 0;
    this.#write(buf, used);
  }

  /** flush writes the current batch, first waiting for the one before it: one batch is written while the next fills. */
  async flush(): Promise<void> {
    await this.settle();
    if (this.#used === 0) return;
    this.#rotate();
  }

  async settle(): Promise<void> {
    while (this.#inflight) await this.#inflight;
    this.#over = false;
    const out = this.out;
    if (out.errored) throw out.errored;
  }

  /** write hands the first used bytes of buf to out; buf is reused once out has consumed it. */
  #write(buf: Buffer, used: number): void {
    const out = this.out;
    if (out.errored) throw out.errored;
    if (out.destroyed) throw new TsbuildError('IO', 'layer tar: output closed early');
    this.size += used;
    if (this.#inflight) this.#over = true;
    // Reusing the batches spares the GC: 1 MiB of fresh external memory per batch made
    // V8 collect every few batches.
    if (out.write(buf.subarray(0, used), (err) => { if (!err) this.#free.push(buf); })) return;
    if (this.#inflight) return; // the pending 'drain' covers this batch too
    const p = drained(out).finally(() => { if (this.#inflight === p) this.#inflight = null; });
    p.catch(() => undefined); // seen by settle(); never an unhandled rejection if the write is abandoned
    this.#inflight = p;
  }
}

/** drained waits for 'drain', failing if out errors or closes first (no event would ever come). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', onDrain); out.off('error', done); out.off('close', onClose);
      if (err) reject(err); else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(out.errored ?? new TsbuildError('IO', 'layer tar: output closed early'));
    out.on('drain', onDrain); out.on('error', done); out.on('close', onClose);
  });
}
