import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { TsbuildError } from '../core/errors.ts';
import type { Digest } from '../core/digest.ts';
import type { ContentStore } from '../store/types.ts';
import { ingestBlob, type IngestedBlob } from './ingest.ts';

/** Files up to this size are kept in memory (metadata, configs, tiny layers) and stored only if referenced. */
const SMALL = 1 << 20;
/** At most this much is kept in memory in all; past it every file goes to the store. */
const MEMORY_BUDGET = 64 << 20;
const MAX_LINK_HOPS = 16;

/** ArchiveFile is one entry of an archive as read: small bytes, a blob already in the store, or a link. */
export type ArchiveFile =
  | { kind: 'bytes'; data: Buffer }
  | { kind: 'blob'; blob: IngestedBlob }
  | { kind: 'link'; target: string };

/** ArchiveFiles maps normalised entry names (no leading ./ or /, no ..) to what they hold. */
export type ArchiveFiles = Map<string, ArchiveFile>;

/** BLOB_NAME matches OCI layout blob paths, whose name is their digest. */
const BLOB_NAME = /^blobs\/sha256\/([0-9a-f]{64})$/;
/** CONFIG_NAME matches Docker's `<config hex>.json`, also named by its digest. */
const CONFIG_NAME = /^([0-9a-f]{64})\.json$/;

/** expectedDigest is the digest an entry's name promises, if any. */
export function expectedDigest(name: string): Digest | undefined {
  const m = BLOB_NAME.exec(name) ?? CONFIG_NAME.exec(name);
  return m ? (`sha256:${m[1]}` as Digest) : undefined;
}

/**
 * safeName normalises an archive entry name; absolute names and names with `..`
 * are refused (BAD_ARCHIVE), so nothing can refer outside the archive.
 */
export function safeName(raw: string): string {
  const n = raw.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (n.startsWith('/') || n.split('/').includes('..')) throw new TsbuildError('BAD_ARCHIVE', `archive entry "${raw}": path outside the archive`);
  return posix.normalize(n === '' ? '.' : n);
}

/**
 * readArchive reads a tar (optionally gzip-compressed) stream once: big files are
 * streamed into the store as they pass (verified against a digest their name
 * promises), small ones are kept in memory, links are recorded. Nothing is
 * written outside the store.
 */
export async function readArchive(store: ContentStore, input: Readable): Promise<ArchiveFiles> {
  const files: ArchiveFiles = new Map();
  const pending: Promise<void>[] = [];
  let memory = 0;
  const parser = new Parser({ strict: true });
  return new Promise<ArchiveFiles>((resolve, reject) => {
    let failed = false;
    let current: PassThrough | undefined;
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      input.unpipe(parser as unknown as NodeJS.WritableStream);
      input.destroy();
      // The entry being streamed will get no more data: fail its ingest too (the writer aborts, its tmp file goes).
      current?.destroy(e instanceof Error ? e : new Error(String(e)));
      const err = e instanceof TsbuildError ? e : new TsbuildError('BAD_ARCHIVE', `read archive: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      Promise.allSettled(pending).then(() => reject(err));
    };
    parser.on('entry', (entry: ReadEntry) => {
      try {
        const name = safeName(entry.path);
        switch (entry.type) {
          case 'File':
          case 'OldFile':
          case 'ContiguousFile':
            if (entry.size <= SMALL && memory + entry.size <= MEMORY_BUDGET) {
              memory += entry.size;
              pending.push(entry.concat().then((data) => void files.set(name, { kind: 'bytes', data })).catch(fail));
            } else {
              const body = bodyOf(entry);
              current = body;
              body.on('close', () => { if (current === body) current = undefined; });
              pending.push(ingestBlob(store, body, expectedDigest(name)).then((blob) => void files.set(name, { kind: 'blob', blob })).catch(fail));
            }
            return;
          case 'SymbolicLink':
            files.set(name, { kind: 'link', target: symlinkTarget(name, entry.linkpath ?? '') });
            break;
          case 'Link':
            files.set(name, { kind: 'link', target: safeName(entry.linkpath ?? '') });
            break;
          default:
            break;
        }
        entry.resume();
      } catch (e) {
        entry.resume();
        fail(e);
      }
    });
    parser.on('error', fail);
    input.on('error', fail);
    parser.on('end', () => {
      Promise.all(pending).then(() => { if (!failed) resolve(files); }, fail);
    });
    input.pipe(parser as unknown as NodeJS.WritableStream);
  });
}

/**
 * bodyOf moves an entry's data into a Node stream with back-pressure. Unlike the entry
 * itself, it can be failed from outside when the archive breaks off mid-entry.
 */
function bodyOf(entry: ReadEntry): PassThrough {
  const body = new PassThrough({ highWaterMark: 1 << 20 });
  // Failing it may come before its reader is attached; the failure itself is reported by readArchive.
  body.on('error', () => undefined);
  entry.on('data', (c: Buffer) => {
    if (!body.write(c)) {
      entry.pause();
      body.once('drain', () => entry.resume());
    }
  });
  entry.on('end', () => body.end());
  return body;
}

/** symlinkTarget resolves a symlink's target against its directory, inside the archive only. */
function symlinkTarget(name: string, target: string): string {
  if (target.startsWith('/')) throw new TsbuildError('BAD_ARCHIVE', `archive entry "${name}": absolute link target "${target}"`);
  const joined = posix.normalize(posix.join(posix.dirname(name), target));
  if (joined === '..' || joined.startsWith('../')) throw new TsbuildError('BAD_ARCHIVE', `archive entry "${name}": link target "${target}" outside the archive`);
  return joined;
}

/** lookup finds an entry, following links (bounded); undefined when absent. */
export function lookup(files: ArchiveFiles, name: string): Exclude<ArchiveFile, { kind: 'link' }> | undefined {
  let n = safeName(name);
  for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
    const f = files.get(n);
    if (!f || f.kind !== 'link') return f;
    n = f.target;
  }
  throw new TsbuildError('BAD_ARCHIVE', `archive entry "${name}": too many links`);
}

/** materialize makes sure a file is a blob in the store (small files are stored now), verified when its name promises a digest. */
export async function materialize(store: ContentStore, files: ArchiveFiles, name: string): Promise<IngestedBlob> {
  const f = lookup(files, name);
  if (!f) throw new TsbuildError('BAD_ARCHIVE', `archive has no "${name}"`);
  if (f.kind === 'blob') return f.blob;
  const blob = await ingestBlob(store, f.data, expectedDigest(safeName(name)));
  files.set(safeName(name), { kind: 'blob', blob });
  return blob;
}

/** readSmall returns the bytes of a small (metadata) file, reading the store for a stored one. */
export async function readSmall(store: ContentStore, files: ArchiveFiles, name: string): Promise<Buffer | undefined> {
  const f = lookup(files, name);
  if (!f) return undefined;
  return f.kind === 'bytes' ? f.data : store.readBytes(f.blob.digest);
}
