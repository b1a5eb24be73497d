import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { TsbuildError } from '../core/errors.ts';
import type { Digest } from '../core/digest.ts';
import { MAX_JSON_BYTES, parseJsonBytes } from '../oci/parseJson.ts';
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

/** METADATA are the archive's own JSON files, read whole: bounded by MAX_JSON_BYTES as they come. */
const METADATA = new Set(['index.json', 'manifest.json', 'oci-layout', 'repositories']);

/** REFUSED names the entry types an image archive never holds (devices would be created nowhere, but say so). */
const REFUSED: Record<string, string> = { CharacterDevice: 'a character device', BlockDevice: 'a block device', FIFO: 'a fifo' };

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

/** hardLinkTarget is a hard link's target: another entry's name, which may not leave the archive. */
function hardLinkTarget(name: string, target: string): string {
  try {
    return safeName(target);
  } catch {
    throw new TsbuildError('BAD_ARCHIVE', `archive entry "${name}": hard link target "${target}" outside the archive`);
  }
}

/**
 * readArchive reads a tar (optionally gzip-compressed) stream once: big files are
 * streamed into the store as they pass (a StagingStore, for a load: see
 * loadArchive), small ones are kept in memory, links are recorded. A file whose
 * name is a digest must hold that content. Refused, naming the entry: an entry
 * that appears twice, devices and fifos, names and link targets outside the
 * archive, metadata files (index.json, manifest.json, ...) over MAX_JSON_BYTES.
 * Nothing is written outside the store.
 */
export async function readArchive(store: ContentStore, input: Readable): Promise<ArchiveFiles> {
  const files: ArchiveFiles = new Map();
  const seen = new Set<string>();
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
        const refused = REFUSED[entry.type];
        if (refused) throw new TsbuildError('BAD_ARCHIVE', `archive entry "${entry.path}": ${refused}; an image archive holds files, directories and links only`);
        if (entry.type === 'Directory') return void entry.resume();
        if (seen.has(name)) throw new TsbuildError('BAD_ARCHIVE', `archive entry "${entry.path}" appears twice`);
        seen.add(name);
        switch (entry.type) {
          case 'File':
          case 'OldFile':
          case 'ContiguousFile':
            if (METADATA.has(name) && entry.size > MAX_JSON_BYTES) {
              throw new TsbuildError('BAD_ARCHIVE', `archive entry "${name}": ${entry.size} bytes, more than the ${MAX_JSON_BYTES} a JSON document may have`);
            }
            if (entry.size <= SMALL && memory + entry.size <= MEMORY_BUDGET) {
              memory += entry.size;
              pending.push(entry.concat().then((data) => void files.set(name, { kind: 'bytes', data })).catch(fail));
            } else {
              const body = bodyOf(entry);
              current = body;
              body.on('close', () => { if (current === body) current = undefined; });
              pending.push(ingestBlob(store, body).then((blob) => void files.set(name, { kind: 'blob', blob: checkName(name, blob) })).catch(fail));
            }
            return;
          case 'SymbolicLink':
            files.set(name, { kind: 'link', target: symlinkTarget(name, entry.linkpath ?? '') });
            break;
          case 'Link':
            files.set(name, { kind: 'link', target: hardLinkTarget(entry.path, entry.linkpath ?? '') });
            break;
          default:
            throw new TsbuildError('BAD_ARCHIVE', `archive entry "${entry.path}": type ${entry.type} is not one an image archive holds`);
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

/** checkName refuses a blob whose name promises a digest (blobs/sha256/<hex>, <hex>.json) it does not have. */
function checkName(name: string, blob: IngestedBlob): IngestedBlob {
  const want = expectedDigest(name);
  if (want !== undefined && want !== blob.digest) {
    throw new TsbuildError('DIGEST_MISMATCH', `archive entry "${name}": content is ${blob.digest}, not the digest its name says`);
  }
  return blob;
}

/**
 * materialize makes sure a file is a blob in the store (small files are stored now),
 * checked against the digest its name promises. `at` says who names the file, for the
 * error when it is absent (`manifest.json: [0].Layers[1]`).
 */
export async function materialize(store: ContentStore, files: ArchiveFiles, name: string, at: string): Promise<IngestedBlob> {
  const f = lookup(files, name);
  if (!f) throw new TsbuildError('BAD_ARCHIVE', `${at}: archive has no "${name}"`);
  if (f.kind === 'blob') return f.blob;
  const blob = checkName(safeName(name), await ingestBlob(store, f.data));
  files.set(safeName(name), { kind: 'blob', blob });
  return blob;
}

/** readJsonFile parses a metadata file of the archive (index.json, manifest.json); undefined when absent. */
export async function readJsonFile(store: ContentStore, files: ArchiveFiles, name: string): Promise<unknown> {
  const f = lookup(files, name);
  if (!f) return undefined;
  return parseJsonBytes(f.kind === 'bytes' ? f.data : await readJsonBlob(store, f.blob.digest, name), { what: name, code: 'BAD_ARCHIVE' });
}

/** readJsonBlob reads a stored blob that must be a JSON document (a manifest, a config) whole, refusing one over MAX_JSON_BYTES. */
export async function readJsonBlob(store: ContentStore, d: Digest, what: string): Promise<Buffer> {
  const size = await store.size(d);
  if (size > MAX_JSON_BYTES) throw new TsbuildError('BAD_ARCHIVE', `${what}: ${size} bytes, more than the ${MAX_JSON_BYTES} a JSON document may have`);
  return store.readBytes(d);
}
