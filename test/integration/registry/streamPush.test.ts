import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sha256Of } from '../../../src/core/digest.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { pullImage } from '../../../src/registry/pull.ts';
import { pushImage } from '../../../src/registry/push.ts';
import { parseRegistryRef } from '../../../src/registry/reference.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { ContentStore, LocalStore } from '../../../src/store/types.ts';
import { makeTestImage, randomText, startCountingProxy, startRegistry, type RunningRegistry, type TestImage } from '../../helpers/registry.ts';

// A cold push uploads each layer while compressing it (POST, one streamed PATCH,
// PUT ?digest=), instead of compressing first and uploading after.

describe('compress-while-uploading push', () => {
  let reg: RunningRegistry;
  let tmp: string;
  const clients: RegistryClient[] = [];
  const client = (o: ConstructorParameters<typeof RegistryClient>[0] = {}) => {
    const c = new RegistryClient({ retryBaseMs: 10, ...o });
    clients.push(c);
    return c;
  };
  /** fresh makes a store holding a new two-layer image (so nothing is compressed yet). */
  const fresh = async (name: string): Promise<{ store: LocalStore; img: TestImage }> => {
    const store = await openStore(join(tmp, name));
    const img = await makeTestImage(store.content, [{ 'big.txt': randomText(3_000_000), 'etc/x': 'x\n' }, { 'small.txt': 'small\n' }]);
    return { store, img };
  };

  beforeAll(async () => {
    reg = await startRegistry();
    tmp = mkdtempSync(join(tmpdir(), 'tsbuild-streampush-'));
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await reg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('a cold push streams each layer (no HEAD first), gives the same blobs as compress-then-upload, and records them', async () => {
    const { store, img } = await fresh('a');
    const proxy = await startCountingProxy(reg.port);
    try {
      const pushed = await pushImage(client(), store.content, img.manifestDesc, parseRegistryRef(`${proxy.host}/s:1`), { cacheDir: store.dirs.cache });
      expect(pushed.blobs.map((b) => b.result)).toEqual(['uploaded', 'uploaded', 'uploaded']);
      const layerCalls = proxy.requests.filter((r) => r.path.includes('/blobs/') && r.method !== 'HEAD' && !r.path.includes('/blobs/sha256:'));
      expect(layerCalls.filter((r) => r.method === 'PATCH')).toHaveLength(2);
      // Only the config (whose digest is known) is asked for first.
      expect(proxy.requests.filter((r) => r.method === 'HEAD' && r.path.includes('/blobs/'))).toHaveLength(1);
      for (const img2 of img.layers) expect(existsSync(join(store.dirs.cache, 'compressed', `${img2.digest.slice(7)}.json`))).toBe(true);

      // Compressing again (another cache dir) without streaming gives the same manifest.
      const plain = await pushImage(client(), store.content, img.manifestDesc, parseRegistryRef(`${reg.host}/plain:1`), { cacheDir: join(tmp, 'other-cache'), streaming: false });
      expect(plain.manifestDesc.digest).toBe(pushed.manifestDesc.digest);

      const dst = await openStore(join(tmp, 'a-pulled'));
      const pulled = await pullImage(client(), dst.content, parseRegistryRef(`${reg.host}/s:1`));
      for (const [i, l] of pulled.manifest.layers.entries()) expect(sha256Of(gunzipSync(await dst.content.readBytes(l.digest)))).toBe(img.config.rootfs.diff_ids[i]);
    } finally {
      await proxy.stop();
    }
  });

  test('when the streamed upload fails, the finished blob is uploaded again from the store', async () => {
    const { store, img } = await fresh('c');
    let failed = 0;
    const proxy = await startCountingProxy(reg.port, (r) => (r.method === 'PATCH' && failed++ < 2 ? 503 : undefined));
    try {
      const pushed = await pushImage(client(), store.content, img.manifestDesc, parseRegistryRef(`${proxy.host}/f:1`), { cacheDir: store.dirs.cache });
      expect(failed).toBe(2);
      expect(pushed.blobs.map((b) => b.result)).toEqual(['uploaded', 'uploaded', 'uploaded']);
      // The retried uploads are ordinary ones: HEAD, then a PUT carrying the blob.
      expect(proxy.requests.filter((r) => r.method === 'HEAD' && r.path.includes('/blobs/'))).toHaveLength(3);
      const dst = await openStore(join(tmp, 'c-pulled'));
      const pulled = await pullImage(client(), dst.content, parseRegistryRef(`${reg.host}/f:1`));
      expect(pulled.config.rootfs.diff_ids).toEqual(img.config.rootfs.diff_ids);
    } finally {
      await proxy.stop();
    }
  });

  test('a layer that cannot be read fails the push with that error, records nothing, and does not hang', async () => {
    const { store, img } = await fresh('d');
    // Compression reads the layer's file by path (gzipFile); a directory there fails the first read.
    const notAFile = mkdtempSync(join(tmp, 'not-a-file-'));
    const broken = new Proxy(store.content, {
      get(t, p, r) {
        if (p === 'path') return (d: string) => (d === img.layers[0]!.digest ? notAFile : t.path(d as never));
        const v = Reflect.get(t, p, r) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    }) as ContentStore;
    await expect(pushImage(client(), broken, img.manifestDesc, parseRegistryRef(`${reg.host}/broken:1`), { cacheDir: store.dirs.cache })).rejects.toThrow(/EISDIR/);
    expect(existsSync(join(store.dirs.cache, 'compressed', `${img.layers[0]!.digest.slice(7)}.json`))).toBe(false);
  });

  test('a cold push to a registry nobody answers fails with the connection error (no hang, no unhandled rejection)', async () => {
    // The streamed upload fails at once (nothing listens), before the compression has
    // begun: it used to stall the compression forever, and the process then exited 0.
    const { store, img } = await fresh('e');
    const { freePort } = await import('../../helpers/registry.ts');
    const port = await freePort();
    const c = client({ retries: 0 });
    await expect(pushImage(c, store.content, img.manifestDesc, parseRegistryRef(`127.0.0.1:${port}/gone:1`), { cacheDir: store.dirs.cache })).rejects.toThrow(/ECONNREFUSED/);
  }, 30_000);
});
