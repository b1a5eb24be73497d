import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hexOf, sha256Of } from '../../../src/core/digest.ts';
import { loadArchive } from '../../../src/archive/loadArchive.ts';
import { TarWriter } from '../../../src/archive/tarWriter.ts';
import { loadImage, readImage } from '../../../src/store/images.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { LocalStore } from '../../../src/store/types.ts';
import { makeTestImage, type TestImage } from '../../helpers/registry.ts';

type Entry = { file: string; data: Buffer | string } | { link: string; target: string };

/** archive builds a tar stream from entries in order (a test's hand-made docker save output). */
function archive(entries: Entry[]): Readable {
  const out = new PassThrough();
  const w = new TarWriter(out);
  void (async () => {
    for (const e of entries) {
      if ('link' in e) await w.symlink(e.link, e.target);
      else await w.file(e.file, Buffer.byteLength(e.data), Buffer.from(e.data));
    }
    await w.finish();
  })().catch(() => undefined); // the loader may stop reading early, on purpose
  return out;
}

let tmp: string;
let src: LocalStore;
let img: TestImage;
let layerTars: Buffer[];
let configBytes: Buffer;
let n = 0;
const fresh = () => openStore(join(tmp, `s${n++}`));

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'tsbuild-load-'));
  src = await openStore(join(tmp, 'src'));
  img = await makeTestImage(src.content, [{ 'etc/a': 'a\n' }, { 'etc/b': 'b\n' }, { 'etc/a': 'a\n' }]);
  layerTars = await Promise.all(img.layers.map((l) => src.content.readBytes(l.digest)));
  configBytes = await src.content.readBytes((await loadImage(src.content, img.manifestDesc)).id);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** dockerSave20 lays out an image the way Docker 20.10's `docker save` does: v1 ids, VERSION/json, a repeated layer as a symlink, manifest.json last. */
function dockerSave20(mutate: (e: Entry[]) => Entry[] = (e) => e): Readable {
  const ids = ['1111', '2222', '3333'].map((p) => p.repeat(16));
  const cfgName = `${hexOf(sha256Of(configBytes))}.json`;
  const entries: Entry[] = [
    { file: `${ids[0]}/VERSION`, data: '1.0' },
    { file: `${ids[0]}/json`, data: JSON.stringify({ id: ids[0] }) },
    { file: `${ids[0]}/layer.tar`, data: layerTars[0]! },
    { file: `${ids[1]}/VERSION`, data: '1.0' },
    { file: `${ids[1]}/layer.tar`, data: layerTars[1]! },
    { link: `${ids[2]}/layer.tar`, target: `../${ids[0]}/layer.tar` },
    { file: cfgName, data: configBytes },
    { file: 'repositories', data: JSON.stringify({ app: { '20': ids[2] } }) },
    { file: 'manifest.json', data: JSON.stringify([{ Config: cfgName, RepoTags: ['app:20'], Layers: ids.map((i) => `${i}/layer.tar`) }]) },
  ];
  return archive(mutate(entries));
}

describe('loadArchive', () => {
  test("Docker 20.10's classic docker save layout, with a symlinked repeated layer", async () => {
    expect(img.layers[0]!.digest).toBe(img.layers[2]!.digest);
    const dst = await fresh();
    const res = await loadArchive(dst, dockerSave20());
    expect(res.tags).toEqual(['app:20']);
    const loaded = await readImage(dst, 'app:20');
    expect(loaded.id).toBe(sha256Of(configBytes));
    expect(loaded.manifest.layers.map((l) => l.digest)).toEqual(img.layers.map((l) => l.digest));
  });

  test.each([
    ['../evil', 'path outside the archive'], // parent escape
    ['a/../../evil', 'path outside the archive'], // escape after a component
  ])('refuses entry %s', async (name, msg) => {
    const dst = await fresh();
    const err = await loadArchive(dst, dockerSave20((e) => [{ file: name, data: 'x' }, ...e])).catch((x: Error) => x);
    expect(err).toMatchObject({ code: 'BAD_ARCHIVE' });
    expect(String(err)).toContain(msg);
    expect(await dst.tags.list()).toEqual([]);
  });

  test.each([
    ['/etc/passwd', 'absolute link target'], // absolute target
    ['../../../etc/passwd', 'outside the archive'], // relative escape
  ])('refuses a layer symlink to %s', async (target, msg) => {
    const dst = await fresh();
    const err = await loadArchive(dst, dockerSave20((e) => e.map((x) => ('link' in x ? { link: x.link, target } : x)))).catch((x: Error) => x);
    expect(err).toMatchObject({ code: 'BAD_ARCHIVE' });
    expect(String(err)).toContain(msg);
  });

  test('a layer whose content does not match its diff_id is refused and nothing is tagged', async () => {
    const dst = await fresh();
    const err = await loadArchive(dst, dockerSave20((e) => e.map((x) => ('file' in x && x.file.endsWith('2222/layer.tar') ? { file: x.file, data: layerTars[0]! } : x)))).catch((x: Error) => x);
    expect(err).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await dst.tags.list()).toEqual([]);
  });

  test('a config whose name is not its digest is refused', async () => {
    const dst = await fresh();
    const tampered = Buffer.from(configBytes.toString().replace('amd64', 'arm64'));
    const err = await loadArchive(dst, dockerSave20((e) => e.map((x) => ('file' in x && x.file.endsWith('.json') && !x.file.includes('/') && x.file !== 'manifest.json' ? { file: x.file, data: tampered } : x)))).catch((x: Error) => x);
    expect(err).toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  test('an OCI blob that does not match its name is refused', async () => {
    const bad = Buffer.from('not the blob');
    const name = `blobs/sha256/${hexOf(sha256Of('something else'))}`;
    const dst = await fresh();
    const err = await loadArchive(dst, archive([
      { file: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
      { file: name, data: bad },
      { file: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Of('something else'), size: bad.length }] }) },
    ])).catch((x: Error) => x);
    expect(err).toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  test('not an image archive', async () => {
    const dst = await fresh();
    await expect(loadArchive(dst, archive([{ file: 'hello.txt', data: 'hi' }]))).rejects.toMatchObject({ code: 'BAD_ARCHIVE' });
    const garbage = new PassThrough();
    garbage.end(Buffer.alloc(4096, 7));
    await expect(loadArchive(dst, garbage)).rejects.toMatchObject({ code: 'BAD_ARCHIVE' });
  });
});

describe('loadArchive on broken input', () => {
  test('a truncated archive fails cleanly: no hang, no staged file left', async () => {
    const big = Buffer.alloc(3 << 20, 'x');
    const chunks: Buffer[] = [];
    const whole = archive([{ file: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' }, { file: `blobs/sha256/${hexOf(sha256Of(big))}`, data: big }]);
    for await (const c of whole) chunks.push(c as Buffer);
    const all = Buffer.concat(chunks);
    const cut = new PassThrough();
    cut.end(all.subarray(0, 2 << 20));
    const dst = await fresh();
    await expect(loadArchive(dst, cut)).rejects.toMatchObject({ code: 'BAD_ARCHIVE' });
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dst.dirs.tmp).filter((f) => f !== 'locks' && f !== 'live')).toEqual([]);
    expect(await dst.content.list()).toEqual([]);
  });

  test('an input stream error mid-entry fails the load', async () => {
    const src = new PassThrough();
    const dst = await fresh();
    const p = loadArchive(dst, src);
    const chunks: Buffer[] = [];
    for await (const c of archive([{ file: 'big', data: Buffer.alloc(2 << 20, 'y') }])) chunks.push(c as Buffer);
    src.write(Buffer.concat(chunks).subarray(0, 1 << 20));
    setTimeout(() => src.destroy(new Error('disk on fire')), 50);
    await expect(p).rejects.toMatchObject({ code: 'BAD_ARCHIVE', message: expect.stringContaining('disk on fire') });
  });
});
