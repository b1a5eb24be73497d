import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sha256Of } from '../../../src/core/digest.ts';
import { MediaType } from '../../../src/oci/mediaTypes.ts';
import type { Index, Manifest } from '../../../src/oci/types.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { decompress } from '../../../src/registry/compression.ts';
import { compressImage } from '../../../src/registry/compressionManifest.ts';
import { pullImage } from '../../../src/registry/pull.ts';
import { pushImage } from '../../../src/registry/push.ts';
import { parseRegistryRef } from '../../../src/registry/reference.ts';
import { tagImage } from '../../../src/store/images.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { LocalStore } from '../../../src/store/types.ts';
import { zstdDecompress } from '../../../src/sys/zstd.ts';
import { ok, tsbuild } from '../../helpers/cli.ts';
import { makeTestImage, randomText, startRegistry, type RunningRegistry, type TestImage } from '../../helpers/registry.ts';

const ZSTD_MAGIC = '28b52ffd';

/** unzstd decompresses with the zstd tool itself, independently of tsbuild's streams. */
function unzstd(b: Buffer): Buffer {
  return execFileSync('zstd', ['-d', '-c', '-q'], { input: b, maxBuffer: 1 << 28 });
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('zstd layers (push --compression zstd, save --format oci --compression zstd)', () => {
  let reg: RunningRegistry;
  let tmp: string;
  let src: LocalStore;
  let img: TestImage;
  const clients: RegistryClient[] = [];
  const client = () => {
    const c = new RegistryClient({ retryBaseMs: 10 });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    reg = await startRegistry();
    tmp = mkdtempSync(join(tmpdir(), 'tsbuild-zstd-'));
    src = await openStore(join(tmp, 'src'));
    img = await makeTestImage(src.content, [{ 'etc/hello': 'hello\n', 'bin/x': randomText(300_000) }, { 'app/data': randomText(40_000) }]);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await reg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('push makes an OCI manifest of tar+zstd layers; a fresh store pulls it; the layers decompress to their DiffIDs', async () => {
    const ref = parseRegistryRef(`${reg.host}/z:1`);
    const pushed = await pushImage(client(), src.content, img.manifestDesc, ref, { compression: 'zstd' });
    expect(pushed.blobs.map((b) => b.result)).toEqual(['uploaded', 'uploaded', 'uploaded']);

    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/z:1`], { encoding: 'utf8' })) as Manifest;
    expect(raw.mediaType).toBe(MediaType.OciManifest);
    expect(raw.layers.map((l) => l.mediaType)).toEqual([MediaType.OciLayerZstd, MediaType.OciLayerZstd]);
    expect(raw.config.digest).toBe((await src.content.readJson<Manifest>(img.manifestDesc.digest)).config.digest);

    const dst = await openStore(join(tmp, 'dst'));
    const pulled = await pullImage(client(), dst.content, ref);
    expect(pulled.manifestDesc.digest).toBe(pushed.manifestDesc.digest);
    expect(pulled.config.rootfs.diff_ids).toEqual(img.config.rootfs.diff_ids);
    for (const [i, l] of pulled.manifest.layers.entries()) {
      const blob = await dst.content.readBytes(l.digest);
      expect(blob.subarray(0, 4).toString('hex')).toBe(ZSTD_MAGIC);
      expect(sha256Of(unzstd(blob))).toBe(img.config.rootfs.diff_ids[i]);
      // decompress() (magic-sniffing) gives the same tar.
      expect(sha256Of(await readAll(decompress(dst.content.open(l.digest))))).toBe(img.config.rootfs.diff_ids[i]);
    }
  });

  test('zstd output is deterministic across stores, and remembered per DiffID beside the gzip record', async () => {
    const a = await pushImage(client(), src.content, img.manifestDesc, parseRegistryRef(`${reg.host}/det:a`), { compression: 'zstd' });
    const gz = await pushImage(client(), src.content, img.manifestDesc, parseRegistryRef(`${reg.host}/det:gz`));
    expect(gz.manifestDesc.digest).not.toBe(a.manifestDesc.digest);
    const hex = img.layers[0]!.digest.slice(7);
    const zrec = JSON.parse(readFileSync(join(src.dirs.cache, 'compressed', `${hex}.zstd.json`), 'utf8')) as { digest: string; mediaType: string };
    const grec = JSON.parse(readFileSync(join(src.dirs.cache, 'compressed', `${hex}.json`), 'utf8')) as { digest: string; mediaType: string };
    expect(zrec.mediaType).toBe(MediaType.OciLayerZstd);
    expect(grec.mediaType).toBe(MediaType.OciLayerGzip);

    // A second zstd push to another registry neither recompresses (no open of a plain layer) nor differs.
    const reg2 = await startRegistry();
    try {
      let plainOpens = 0;
      const counting = new Proxy(src.content, {
        get(t, p, r) {
          if (p === 'open') return (d: string) => { if (img.layers.some((l) => l.digest === d)) plainOpens++; return t.open(d as never); };
          const v = Reflect.get(t, p, r) as unknown;
          return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(t) : v;
        },
      });
      const again = await pushImage(client(), counting, img.manifestDesc, parseRegistryRef(`${reg2.host}/det:a`), { compression: 'zstd', cacheDir: src.dirs.cache });
      expect(again.manifestDesc.digest).toBe(a.manifestDesc.digest);
      expect(again.blobs.map((b) => b.result)).toEqual(['uploaded', 'uploaded', 'uploaded']);
      expect(plainOpens).toBe(0);
    } finally {
      await reg2.stop();
    }

    // The same layers in another store compress to the same zstd blobs.
    const other = await openStore(join(tmp, 'other'));
    const copy = await makeTestImage(other.content, []);
    expect(copy.layers).toEqual([]);
    for (const d of [...img.layers.map((l) => l.digest), (await src.content.readJson<Manifest>(img.manifestDesc.digest)).config.digest]) {
      const w = await other.content.writer();
      w.stream.end(await src.content.readBytes(d));
      await w.commit({ digest: d });
    }
    await other.content.putBytes(await src.content.readBytes(img.manifestDesc.digest));
    const b = await pushImage(client(), other.content, img.manifestDesc, parseRegistryRef(`${reg.host}/det:b`), { compression: 'zstd' });
    expect(b.manifestDesc.digest).toBe(a.manifestDesc.digest);
  });

  test('a Docker schema 2 image with plain layers becomes an OCI image when its layers become zstd', async () => {
    const m = await src.content.readJson<Manifest>(img.manifestDesc.digest);
    const docker: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: { ...m.config, mediaType: MediaType.DockerConfig },
      layers: m.layers.map((l) => ({ ...l, mediaType: MediaType.DockerLayer })),
    };
    const put = await src.content.putBytes(JSON.stringify(docker));
    const desc = { mediaType: MediaType.DockerManifest, ...put };

    const z = await compressImage(src.content, desc, { cacheDir: src.dirs.cache, compression: 'zstd' });
    const zm = await src.content.readJson<Manifest>(z.digest);
    expect(z.mediaType).toBe(MediaType.OciManifest);
    expect(zm.config.mediaType).toBe(MediaType.OciConfig);
    expect(zm.layers.map((l) => l.mediaType)).toEqual([MediaType.OciLayerZstd, MediaType.OciLayerZstd]);

    // gzip keeps the Docker schema.
    const g = await compressImage(src.content, desc, { cacheDir: src.dirs.cache, compression: 'gzip' });
    const gm = await src.content.readJson<Manifest>(g.digest);
    expect(g.mediaType).toBe(MediaType.DockerManifest);
    expect(gm.layers.map((l) => l.mediaType)).toEqual([MediaType.DockerLayerGzip, MediaType.DockerLayerGzip]);

    // Already compressed: nothing changes, the manifest is kept byte for byte.
    expect((await compressImage(src.content, z, { cacheDir: src.dirs.cache, compression: 'gzip' })).digest).toBe(z.digest);
  });

  test('CLI: push --compression zstd, pull; save --format oci --compression zstd reads back with skopeo and tsbuild load', async () => {
    const root = join(tmp, 'cli');
    const store = await openStore(root);
    const mine = await makeTestImage(store.content, [{ 'a.txt': randomText(10_000) }]);
    await tagImage(store.tags, `${reg.host}/cli/z:1`, mine.manifestDesc);

    expect((await ok(['--root', root, 'push', '--compression', 'zstd', `${reg.host}/cli/z:1`])).stdout).toMatch(/Pushed/);
    await ok(['--root', join(tmp, 'cli2'), 'pull', `${reg.host}/cli/z:1`]);
    const idx = JSON.parse(readFileSync(join(tmp, 'cli2/oci/index.json'), 'utf8')) as Index;
    const pulled = JSON.parse(readFileSync(join(tmp, 'cli2/oci/blobs/sha256', idx.manifests[0]!.digest.slice(7)), 'utf8')) as Manifest;
    expect(pulled.layers[0]!.mediaType).toBe(MediaType.OciLayerZstd);

    const bad = await tsbuild(['--root', root, 'push', '--compression', 'xz', `${reg.host}/cli/z:1`]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--compression must be gzip or zstd, not "xz"');
    const dockerZstd = await tsbuild(['--root', root, 'save', '--compression', 'zstd', '-o', join(tmp, 'no.tar'), `${reg.host}/cli/z:1`]);
    expect(dockerZstd.code).not.toBe(0);
    expect(dockerZstd.stderr).toContain('--compression needs --format oci');

    const archive = join(tmp, 'z.oci.tar');
    await ok(['--root', root, 'save', '--format', 'oci', '--compression', 'zstd', '-o', archive, `${reg.host}/cli/z:1`]);
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${archive}:${reg.host}/cli/z:1`], { encoding: 'utf8' })) as Manifest;
    expect(raw.layers.map((l) => l.mediaType)).toEqual([MediaType.OciLayerZstd]);
    expect(raw).toEqual(pulled);
    // The store's tag still names the plain image; only the archive holds the zstd form.
    expect((await store.tags.get(`${reg.host}/cli/z:1`))!.digest).toBe(mine.manifestDesc.digest);

    const loaded = await ok(['--root', join(tmp, 'cli3'), 'load', '-i', archive]);
    expect(loaded.stdout).toBe(`Loaded image: ${reg.host}/cli/z:1\n`);
  });

  test('a corrupt zstd stream fails with the command and its message, not a hang', async () => {
    const out = zstdDecompress(Readable.from([Buffer.from(ZSTD_MAGIC + '00112233445566778899', 'hex')]));
    await expect(readAll(out)).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(/^zstd -d .*: .+/) });
  });
});
