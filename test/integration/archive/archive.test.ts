import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sha256Of } from '../../../src/core/digest.ts';
import { loadArchive } from '../../../src/archive/loadArchive.ts';
import { saveImages, type SaveOptions } from '../../../src/archive/saveImages.ts';
import { canonicalJson } from '../../../src/oci/canonicalJson.ts';
import { MediaType } from '../../../src/oci/mediaTypes.ts';
import type { Manifest } from '../../../src/oci/types.ts';
import { readImage, tagImage } from '../../../src/store/images.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { LocalStore } from '../../../src/store/types.ts';
import { makeTestImage, randomText, type TestImage } from '../../helpers/registry.ts';

let tmp: string;
let src: LocalStore;
let img: TestImage;
let img2: TestImage;

async function save(file: string, format: SaveOptions['format'], images = [{ manifestDesc: img.manifestDesc, tags: ['app:1'] }]): Promise<void> {
  await saveImages(src.content, images, createWriteStream(file), { format });
}

let n = 0;
async function freshStore(): Promise<LocalStore> {
  return openStore(join(tmp, `store-${n++}`));
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'tsbuild-archive-'));
  src = await openStore(join(tmp, 'src'));
  img = await makeTestImage(src.content, [{ 'etc/os-release': 'ID=test\n', 'bin/tool': randomText(2_000_000) }, { 'app/main': 'main\n' }]);
  img2 = await makeTestImage(src.content, [{ 'etc/os-release': 'ID=test\n', 'bin/tool': 'other\n' }], ['/app']);
  await tagImage(src.tags, 'app:1', img.manifestDesc);
  await tagImage(src.tags, 'localhost:5000/team/other:2', img2.manifestDesc);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('saveImages', () => {
  test('docker-archive: skopeo inspects it; load keeps the config digest and the tag', async () => {
    const file = join(tmp, 'docker.tar');
    await save(file, 'docker');
    const out = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${file}`], { encoding: 'utf8' })) as { Layers: string[]; Architecture: string };
    expect(out.Architecture).toBe('amd64');
    expect(out.Layers).toEqual(img.layers.map((l) => l.digest));
    const dst = await freshStore();
    const res = await loadArchive(dst, createReadStream(file));
    expect(res.tags).toEqual(['app:1']);
    const loaded = await readImage(dst, 'app:1');
    const orig = await readImage(src, 'app:1');
    expect(loaded.id).toBe(orig.id);
    // writeImage's canonical manifest: even the manifest digest survives the docker format.
    expect(loaded.manifestDesc.digest).toBe(orig.manifestDesc.digest);
  });

  test('oci-archive: skopeo inspects it; load keeps manifest and config digests', async () => {
    const file = join(tmp, 'oci.tar');
    await save(file, 'oci');
    const out = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${file}`], { encoding: 'utf8' })) as { Digest: string };
    expect(out.Digest).toBe(img.manifestDesc.digest);
    const dst = await freshStore();
    const res = await loadArchive(dst, createReadStream(file));
    expect(res.images).toEqual([{ manifestDesc: img.manifestDesc, tags: ['app:1'] }]);
    expect((await dst.tags.get('app:1'))?.digest).toBe(img.manifestDesc.digest);
  });

  test('several images, shared layers written once, and byte-identical output on repeat', async () => {
    const images = [
      { manifestDesc: img.manifestDesc, tags: ['app:1', 'app:latest'] },
      { manifestDesc: img2.manifestDesc, tags: ['localhost:5000/team/other:2'] },
    ];
    for (const format of ['docker', 'oci'] as const) {
      const a = join(tmp, `multi-a.${format}.tar`);
      const b = join(tmp, `multi-b.${format}.tar`);
      await save(a, format, images);
      await save(b, format, images);
      expect(sha256Of(readFileSync(a))).toBe(sha256Of(readFileSync(b)));
      const dst = await freshStore();
      const res = await loadArchive(dst, createReadStream(a));
      expect(res.tags.sort()).toEqual(['app:1', 'app:latest', 'localhost:5000/team/other:2']);
      expect((await readImage(dst, 'localhost:5000/team/other:2')).id).toBe((await readImage(src, 'localhost:5000/team/other:2')).id);
    }
    execFileSync('skopeo', ['inspect', `docker-archive:${join(tmp, 'multi-a.docker.tar')}:localhost:5000/team/other:2`]);
    execFileSync('skopeo', ['inspect', `oci-archive:${join(tmp, 'multi-a.oci.tar')}:app:latest`]);
  });

  test('gzip layers (as pulled) are inflated into a docker archive and kept in an OCI one', async () => {
    const m = await src.content.readJson<Manifest>(img.manifestDesc.digest);
    const layers = [];
    for (const l of m.layers) {
      const gz = gzipSync(await src.content.readBytes(l.digest));
      const put = await src.content.putBytes(gz);
      layers.push({ mediaType: MediaType.OciLayerGzip, ...put });
    }
    const gm = await src.content.putBytes(canonicalJson({ ...m, layers }));
    const desc = { mediaType: MediaType.OciManifest, ...gm };
    const dfile = join(tmp, 'gz.docker.tar');
    await save(dfile, 'docker', [{ manifestDesc: desc, tags: ['gz:1'] }]);
    const listing = execFileSync('tar', ['-tvf', dfile], { encoding: 'utf8' });
    expect(listing).toMatch(/layer\.tar/);
    const dst = await freshStore();
    await loadArchive(dst, createReadStream(dfile));
    const loaded = await readImage(dst, 'gz:1');
    expect(loaded.manifest.layers.map((l) => l.mediaType)).toEqual([MediaType.OciLayer, MediaType.OciLayer]);
    expect(loaded.id).toBe(m.config.digest);

    const ofile = join(tmp, 'gz.oci.tar');
    await save(ofile, 'oci', [{ manifestDesc: desc, tags: ['gz:1'] }]);
    const dst2 = await freshStore();
    await loadArchive(dst2, createReadStream(ofile));
    expect((await readImage(dst2, 'gz:1')).manifestDesc.digest).toBe(desc.digest);
  });
});

describe('loadArchive reads what other tools write', () => {
  test('skopeo copy oci:ROOT/oci:name → docker-archive, then our load', async () => {
    const file = join(tmp, 'from-skopeo.tar');
    execFileSync('skopeo', ['copy', '-q', `oci:${src.dirs.oci}:app:1`, `docker-archive:${file}:skopeo/app:7`]);
    const dst = await freshStore();
    const res = await loadArchive(dst, createReadStream(file));
    expect(res.tags).toEqual(['skopeo/app:7']);
    expect((await readImage(dst, 'skopeo/app:7')).config.rootfs.diff_ids).toEqual(img.config.rootfs.diff_ids);
  });

  test('skopeo copy → oci-archive (gzip-compressed by skopeo), then our load', async () => {
    const file = join(tmp, 'from-skopeo-oci.tar');
    execFileSync('skopeo', ['copy', '-q', '--dest-compress', `oci:${src.dirs.oci}:app:1`, `oci-archive:${file}:skopeo/app:8`]);
    const dst = await freshStore();
    const res = await loadArchive(dst, createReadStream(file));
    expect(res.tags).toEqual(['skopeo/app:8']);
    const loaded = await readImage(dst, 'skopeo/app:8');
    expect(loaded.manifest.layers.every((l) => l.mediaType === MediaType.OciLayerGzip)).toBe(true);
    expect(loaded.config.rootfs.diff_ids).toEqual(img.config.rootfs.diff_ids);
  });

  test('a gzip-compressed archive (docker save | gzip) loads too', async () => {
    const file = join(tmp, 'docker.tar');
    await save(file, 'docker');
    const gz = join(tmp, 'docker.tar.gz');
    execFileSync('sh', ['-c', `gzip -c ${file} > ${gz}`]);
    const dst = await freshStore();
    expect((await loadArchive(dst, createReadStream(gz))).tags).toEqual(['app:1']);
  });
});
