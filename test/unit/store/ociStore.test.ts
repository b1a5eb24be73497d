import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { sha256Of, type Digest } from '../../../src/core/digest.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { LocalStore } from '../../../src/store/types.ts';

let root: string;
let store: LocalStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tsbuild-store-'));
  store = await openStore(root);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('paths from digests', () => {
  // A blob the store "already has" must be one whose name was validated: a digest from
  // JSON that was only cast to the brand must not name a file outside blobs/sha256.
  test.each([
    ['has', (d: Digest) => store.content.has(d)],
    ['size', (d: Digest) => store.content.size(d)],
    ['readBytes', (d: Digest) => store.content.readBytes(d)],
    ['delete', (d: Digest) => store.content.delete(d)],
    ['path', async (d: Digest) => store.content.path(d)],
  ])('%s refuses a path-like digest, even one naming an existing file', async (_name, op) => {
    await writeFile(join(root, 'secret'), 'host file');
    const evil = 'sha256:../../../secret' as Digest;
    await expect(op(evil)).rejects.toMatchObject({ code: 'BAD_DIGEST' });
    expect(await readFile(join(root, 'secret'), 'utf8')).toBe('host file');
  });

  test('open refuses a path-like digest', () => {
    expect(() => store.content.open('sha256:../../../secret' as Digest)).toThrow(expect.objectContaining({ code: 'BAD_DIGEST' }));
  });
});

describe('openStore', () => {
  test('creates the root layout and a valid empty OCI layout', async () => {
    for (const d of ['oci/blobs/sha256', 'snapshots', 'cache', 'containers', 'tmp']) {
      expect((await stat(join(root, d))).isDirectory()).toBe(true);
    }
    expect(JSON.parse(await readFile(join(root, 'oci/oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(JSON.parse(await readFile(join(root, 'oci/index.json'), 'utf8'))).toMatchObject({ schemaVersion: 2, manifests: [] });
  });

  test('reopening writes nothing: oci-layout, index.json and tmp/ stay as they are', async () => {
    const before = await Promise.all(['oci/oci-layout', 'oci/index.json'].map((f) => stat(join(root, f))));
    await openStore(root);
    const after = await Promise.all(['oci/oci-layout', 'oci/index.json'].map((f) => stat(join(root, f))));
    expect(after.map((s) => [s.ino, s.mtimeMs])).toEqual(before.map((s) => [s.ino, s.mtimeMs]));
    expect((await readdir(join(root, 'tmp'))).filter((n) => n !== 'locks' && n !== 'live')).toEqual([]);
  });

  test('reopening keeps existing tags', async () => {
    const d = await store.content.putBytes('{}');
    await store.tags.set('app', { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...d });
    const again = await openStore(root);
    expect((await again.tags.get('app:latest'))?.digest).toBe(d.digest);
  });
});

describe('OciStore blobs', () => {
  test('putBytes stores by digest and is idempotent', async () => {
    const a = await store.content.putBytes('hello');
    const b = await store.content.putBytes(Buffer.from('hello'));
    expect(a).toEqual({ digest: sha256Of('hello'), size: 5 });
    expect(b).toEqual(a);
    expect(await store.content.has(a.digest)).toBe(true);
    expect((await store.content.readBytes(a.digest)).toString()).toBe('hello');
    expect(await store.content.size(a.digest)).toBe(5);
    expect(await store.content.list()).toEqual([a.digest]);
    expect((await readdir(store.dirs.tmp)).filter((n) => n !== 'live')).toEqual(['locks']);
  });

  test('writer streams, hashes and renames into blobs/', async () => {
    const w = await store.content.writer();
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(100_000, i));
    await pipeline(Readable.from(chunks), w.stream);
    const got = await w.commit();
    const want = sha256Of(Buffer.concat(chunks));
    expect(got).toEqual({ digest: want, size: 5_000_000 });
    expect(await store.content.has(want)).toBe(true);
    const back: Buffer[] = [];
    for await (const c of store.content.open(want)) back.push(c as Buffer);
    expect(sha256Of(Buffer.concat(back))).toBe(want);
    expect((await readdir(store.dirs.tmp)).filter((n) => n !== 'live')).toEqual(['locks']);
  });

  test('writer sealed gives the digest once the stream ends, before the blob is in the store', async () => {
    const w = await store.content.writer();
    w.stream.end('abc');
    expect(await w.sealed()).toEqual({ digest: sha256Of('abc'), size: 3 });
    expect(await store.content.has(sha256Of('abc'))).toBe(false);
    expect(await w.commit({ digest: sha256Of('abc') })).toEqual({ digest: sha256Of('abc'), size: 3 });
    expect(await store.content.has(sha256Of('abc'))).toBe(true);
    expect(await w.sealed()).toEqual({ digest: sha256Of('abc'), size: 3 });
  });

  test('writer commit ends a stream the caller only wrote to', async () => {
    const w = await store.content.writer();
    w.stream.write('abc');
    expect(await w.commit({ digest: sha256Of('abc'), size: 3 })).toEqual({ digest: sha256Of('abc'), size: 3 });
  });

  test('a digest mismatch leaves nothing in the store or tmp/', async () => {
    const w = await store.content.writer();
    w.stream.end('abc');
    await expect(w.commit({ digest: sha256Of('abd') })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await store.content.has(sha256Of('abc'))).toBe(false);
    expect((await readdir(store.dirs.tmp)).filter((n) => n !== 'live')).toEqual(['locks']);
    await w.abort(); // safe after a failed commit
  });

  test('a size mismatch is refused', async () => {
    const w = await store.content.writer();
    w.stream.end('abc');
    await expect(w.commit({ size: 4 })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  test('abort removes the staged file', async () => {
    const w = await store.content.writer();
    w.stream.write('partial');
    await w.abort();
    await w.abort();
    expect((await readdir(store.dirs.tmp)).filter((n) => n !== 'live')).toEqual(['locks']);
  });

  test('committing an existing blob is a no-op', async () => {
    const a = await store.content.putBytes('same');
    const w = await store.content.writer();
    w.stream.end('same');
    expect(await w.commit()).toEqual(a);
    expect(await store.content.list()).toEqual([a.digest]);
  });

  test('missing blobs are BLOB_UNKNOWN', async () => {
    const d = sha256Of('nope');
    expect(await store.content.has(d)).toBe(false);
    await expect(store.content.readBytes(d)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
    await expect(store.content.size(d)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
    await store.content.delete(d);
  });

  test('readJson refuses a corrupt blob', async () => {
    const d = await store.content.putBytes('{not json');
    await expect(store.content.readJson(d.digest)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
  });

  test('list ignores stray files', async () => {
    await writeFile(join(root, 'oci/blobs/sha256/garbage'), 'x');
    expect(await store.content.list()).toEqual([]);
  });
});

describe('OciTagStore', () => {
  const desc = (s: string) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Of(s), size: s.length });

  test('set/get/list/remove with normalised names', async () => {
    await store.tags.set('app', desc('a'));
    await store.tags.set('app:1', desc('b'));
    await store.tags.set('docker.io/library/app:1', desc('c')); // same tag as app:1: replaces it
    expect((await store.tags.get('app:latest'))?.digest).toBe(sha256Of('a'));
    expect((await store.tags.get('app:1'))?.digest).toBe(sha256Of('c'));
    expect((await store.tags.list()).map((t) => t.name).sort()).toEqual(['app:1', 'app:latest']);
    const idx = JSON.parse(await readFile(join(root, 'oci/index.json'), 'utf8'));
    expect(idx.manifests).toHaveLength(2);
    expect(idx.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('app:latest');
    expect(await store.tags.remove('app')).toBe(true);
    expect(await store.tags.remove('app')).toBe(false);
    expect(await store.tags.get('app')).toBeUndefined();
  });

  test('setting a tag to what it names already leaves index.json untouched', async () => {
    await store.tags.set('app:1', desc('a'));
    await store.tags.set('app:2', desc('b'));
    const ino = (await stat(join(root, 'oci/index.json'))).ino;
    await store.tags.set('app:1', desc('a'));
    expect((await stat(join(root, 'oci/index.json'))).ino).toBe(ino);
    await store.tags.set('app:1', desc('c'));
    expect((await stat(join(root, 'oci/index.json'))).ino).not.toBe(ino);
    expect((await store.tags.get('app:1'))?.digest).toBe(sha256Of('c'));
  });

  test('untagged entries: keep, a name removed with keepImage, set and forget', async () => {
    const index = async () => JSON.parse(await readFile(join(root, 'oci/index.json'), 'utf8')).manifests;
    await store.tags.keep(desc('u'));
    await store.tags.keep(desc('u')); // already held: no second entry
    expect(await index()).toEqual([desc('u')]);
    expect(await store.tags.list()).toEqual([]);
    expect(await store.tags.entries()).toEqual([{ name: undefined, descriptor: desc('u') }]);
    // Naming the image drops its untagged entry.
    await store.tags.set('u', desc('u'));
    expect((await index()).map((m: any) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual(['u:latest']);
    await store.tags.keep(desc('u')); // a name holds it: nothing added
    expect(await index()).toHaveLength(1);
    // Another name of the same manifest remains: keepImage adds nothing.
    await store.tags.set('u2', desc('u'));
    expect(await store.tags.remove('u2', { keepImage: true })).toBe(true);
    expect(await index()).toHaveLength(1);
    // The last name: the entry stays, unnamed, in the same update.
    expect(await store.tags.remove('u', { keepImage: true })).toBe(true);
    expect(await index()).toEqual([desc('u')]);
    expect(await store.tags.forget(sha256Of('other'))).toBe(false);
    expect(await store.tags.forget(sha256Of('u'))).toBe(true);
    expect(await index()).toEqual([]);
  });

  test('forget leaves names alone; remove without keepImage drops the entry', async () => {
    await store.tags.set('a', desc('a'));
    expect(await store.tags.forget(sha256Of('a'))).toBe(false);
    expect(await store.tags.remove('a')).toBe(true);
    expect(await store.tags.entries()).toEqual([]);
  });

  test('bad names are refused before touching index.json', async () => {
    await expect(store.tags.set('Bad', desc('a'))).rejects.toMatchObject({ code: 'BAD_REFERENCE' });
  });

  test('concurrent sets in one process lose no update', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.tags.set(`t${i}`, desc(String(i)))));
    expect(await store.tags.list()).toHaveLength(40);
  });
});
