import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { hexOf, sha256Of, type DiffID } from '../../../src/core/digest.ts';
import { canonicalJson } from '../../../src/oci/canonicalJson.ts';
import { MediaType } from '../../../src/oci/mediaTypes.ts';
import type { ImageConfig } from '../../../src/oci/types.ts';
import { readImage, writeImage } from '../../../src/store/images.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { LocalStore } from '../../../src/store/types.ts';

let root: string;
let store: LocalStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tsbuild-images-'));
  store = await openStore(root);
});
afterEach(async () => { await rm(root, { recursive: true, force: true }); });

/** image writes a one-layer image whose layer is the given bytes; cmd makes configs differ. */
async function image(cmd: string) {
  const layer = await store.content.putBytes(Buffer.alloc(1024));
  const config: ImageConfig = {
    architecture: 'amd64', os: 'linux', config: { Cmd: [cmd] },
    rootfs: { type: 'layers', diff_ids: [layer.digest as string as DiffID] },
  };
  const desc = await writeImage(store.content, { config, layers: [{ mediaType: MediaType.OciLayer, ...layer }] });
  return { desc, id: sha256Of(canonicalJson(config)) };
}

describe('writeImage', () => {
  test('writes canonical config and manifest; equal input, equal digest', async () => {
    const a = await image('x');
    const b = await image('x');
    expect(b.desc).toEqual(a.desc);
    expect(a.desc.mediaType).toBe(MediaType.OciManifest);
    const m = await store.content.readJson<{ config: { digest: string } }>(a.desc.digest);
    expect(m.config.digest).toBe(a.id);
    expect((await store.content.readBytes(a.desc.digest)).toString()).toBe(canonicalJson(m));
  });

  test('refuses a layer count that does not match diff_ids', async () => {
    const config: ImageConfig = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } };
    await expect(writeImage(store.content, { config, layers: [{ mediaType: MediaType.OciLayer, digest: sha256Of('x'), size: 1 }] }))
      .rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('readImage', () => {
  test('by tag, by full id, by id prefix with and without sha256:', async () => {
    const a = await image('a');
    await store.tags.set('app:1', a.desc);
    for (const ref of ['app:1', a.id, hexOf(a.id), hexOf(a.id).slice(0, 12), `sha256:${hexOf(a.id).slice(0, 6)}`]) {
      const rec = await readImage(store, ref);
      expect(rec.id).toBe(a.id);
      expect(rec.manifestDesc.digest).toBe(a.desc.digest);
      expect(rec.config.config.Cmd).toEqual(['a']);
    }
  });

  test('a tag wins over an id prefix of the same spelling', async () => {
    const a = await image('a');
    const b = await image('b');
    await store.tags.set('app', a.desc);
    const prefix = hexOf(a.id).slice(0, 4);
    await store.tags.set(prefix, b.desc);
    expect((await readImage(store, prefix)).id).toBe(b.id);
  });

  test('unknown names and ambiguous prefixes fail clearly', async () => {
    await expect(readImage(store, 'nope')).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    await expect(readImage(store, 'sha256:' + 'f'.repeat(64))).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    // Find two images whose ids share a first hex digit, then ask for that digit.
    const seen = new Map<string, string>();
    for (let i = 0; ; i++) {
      const img = await image(`c${i}`);
      await store.tags.set(`c:${i}`, img.desc);
      const first = hexOf(img.id)[0]!;
      if (seen.has(first)) {
        await expect(readImage(store, first)).rejects.toThrow(/ambiguous/);
        break;
      }
      seen.set(first, img.id);
    }
  });
});

describe('untagged images (index.json entries without a ref name)', () => {
  test('are found by full id and id prefix, never by a name', async () => {
    const a = await image('untagged');
    await store.tags.keep(a.desc);
    for (const ref of [a.id, hexOf(a.id), hexOf(a.id).slice(0, 12), `sha256:${hexOf(a.id).slice(0, 6)}`]) {
      expect((await readImage(store, ref)).manifestDesc.digest).toBe(a.desc.digest);
    }
    expect(await store.tags.list()).toEqual([]);
    await expect(readImage(store, 'untagged')).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
  });

  test('a removed last name with keepImage leaves the image usable by id; without, it is gone', async () => {
    const a = await image('kept');
    const b = await image('dropped');
    await store.tags.set('kept', a.desc);
    await store.tags.set('dropped', b.desc);
    await store.tags.remove('kept', { keepImage: true });
    await store.tags.remove('dropped');
    expect((await readImage(store, hexOf(a.id).slice(0, 12))).id).toBe(a.id);
    await expect(readImage(store, b.id)).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
  });

  test('skopeo and umoci still read tagged images beside untagged ones, and list only names', async () => {
    const a = await image('a');
    const u = await image('u');
    await store.tags.set('app:1', a.desc);
    await store.tags.keep(u.desc);
    const out = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${store.dirs.oci}:app:1`], { encoding: 'utf8' }));
    expect(out.Digest).toBe(a.desc.digest);
    expect(execFileSync('umoci', ['ls', '--layout', store.dirs.oci], { encoding: 'utf8' })).toBe('app:1\n');
  });
});

test('skopeo reads a tagged image from the layout', async () => {
  const a = await image('a');
  await store.tags.set('app:1', a.desc);
  const out = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${store.dirs.oci}:app:1`], { encoding: 'utf8' }));
  expect(out.Digest).toBe(a.desc.digest);
  expect(out.Architecture).toBe('amd64');
});
