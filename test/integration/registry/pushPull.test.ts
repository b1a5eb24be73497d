import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sha256Of } from '../../../src/core/digest.ts';
import { MediaType } from '../../../src/oci/mediaTypes.ts';
import type { Manifest } from '../../../src/oci/types.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { pullImage } from '../../../src/registry/pull.ts';
import { pushImage } from '../../../src/registry/push.ts';
import { parseRegistryRef } from '../../../src/registry/reference.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { LocalStore } from '../../../src/store/types.ts';
import { makeTestImage, randomText, startCountingProxy, startRegistry, type RunningRegistry, type TestImage } from '../../helpers/registry.ts';

describe('push and pull against docker-registry', () => {
  let reg: RunningRegistry;
  let tmp: string;
  let src: LocalStore;
  let img: TestImage;
  const clients: RegistryClient[] = [];
  const client = (o: ConstructorParameters<typeof RegistryClient>[0] = {}) => {
    const c = new RegistryClient({ retryBaseMs: 10, ...o });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    reg = await startRegistry();
    tmp = mkdtempSync(join(tmpdir(), 'tsbuild-pushpull-'));
    src = await openStore(join(tmp, 'src'));
    img = await makeTestImage(src.content, [{ 'etc/hello': 'hello\n', 'bin/x': randomText(50_000) }, { 'app/data': randomText(20_000) }]);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await reg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('push compresses layers, skopeo inspects the result, pull restores it', async () => {
    const ref = parseRegistryRef(`${reg.host}/x:1`);
    const pushed = await pushImage(client(), src.content, img.manifestDesc, ref);
    expect(pushed.blobs.map((b) => b.result)).toEqual(['uploaded', 'uploaded', 'uploaded']);

    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/x:1`], { encoding: 'utf8' })) as { Digest: string; Layers: string[]; Architecture: string };
    expect(inspect.Digest).toBe(pushed.manifestDesc.digest);
    expect(inspect.Architecture).toBe('amd64');
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/x:1`], { encoding: 'utf8' })) as Manifest;
    expect(raw.layers.map((l) => l.mediaType)).toEqual([MediaType.OciLayerGzip, MediaType.OciLayerGzip]);
    // The config (diff_ids, so the image id) is pushed unchanged.
    expect(raw.config.digest).toBe((await src.content.readJson<Manifest>(img.manifestDesc.digest)).config.digest);

    const dst = await openStore(join(tmp, 'dst'));
    const pulled = await pullImage(client(), dst.content, ref);
    expect(pulled.manifestDesc.digest).toBe(pushed.manifestDesc.digest);
    expect(pulled.config.rootfs.diff_ids).toEqual(img.config.rootfs.diff_ids);
    expect(pulled.fetched).toBe(3);
    for (const [i, l] of pulled.manifest.layers.entries()) {
      const tarBytes = gunzipSync(await dst.content.readBytes(l.digest));
      expect(sha256Of(tarBytes)).toBe(img.config.rootfs.diff_ids[i]);
    }
    // A second pull downloads nothing.
    expect((await pullImage(client(), dst.content, ref)).fetched).toBe(0);
  });

  test('a second push uploads no blob and does not recompress', async () => {
    const proxy = await startCountingProxy(reg.port);
    try {
      const ref = parseRegistryRef(`${proxy.host}/again:1`);
      const first = await pushImage(client(), src.content, img.manifestDesc, ref);
      expect(first.blobs.every((b) => b.result === 'uploaded')).toBe(true);
      proxy.requests.length = 0;
      let opensOfUncompressed = 0;
      const counting = new Proxy(src.content, {
        get(t, p, r) {
          if (p === 'open') return (d: string) => { if (img.layers.some((l) => l.digest === d)) opensOfUncompressed++; return t.open(d as never); };
          const v = Reflect.get(t, p, r) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
        },
      });
      const second = await pushImage(client(), counting, img.manifestDesc, ref);
      expect(second.manifestDesc.digest).toBe(first.manifestDesc.digest);
      expect(second.blobs.map((b) => b.result)).toEqual(['exists', 'exists', 'exists']);
      expect(opensOfUncompressed).toBe(0);
      const writes = proxy.requests.filter((r) => r.method !== 'HEAD' && r.method !== 'GET' && !r.path.includes('/manifests/'));
      expect(writes).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  test('compression is deterministic: a fresh store pushes the same digests', async () => {
    const other = await openStore(join(tmp, 'other'));
    const again = await makeTestImage(other.content, []);
    expect(again.layers).toEqual([]);
    // Same layer bytes copied into another store compress to the same blob.
    for (const l of img.layers) {
      const w = await other.content.writer();
      w.stream.end(await src.content.readBytes(l.digest));
      await w.commit({ digest: l.digest });
    }
    const desc = await other.content.putBytes(await src.content.readBytes(img.manifestDesc.digest));
    const config = (await src.content.readJson<Manifest>(img.manifestDesc.digest)).config;
    await other.content.putBytes(await src.content.readBytes(config.digest));
    const a = await pushImage(client(), src.content, img.manifestDesc, parseRegistryRef(`${reg.host}/det:a`));
    const b = await pushImage(client(), other.content, { ...img.manifestDesc, digest: desc.digest }, parseRegistryRef(`${reg.host}/det:b`));
    expect(b.manifestDesc.digest).toBe(a.manifestDesc.digest);
  });

  test('temporary errors are retried; permanent ones are not', async () => {
    let injected = 0;
    const proxy = await startCountingProxy(reg.port, (r) => {
      if (r.method === 'HEAD' && r.path.includes('/blobs/') && injected < 2) { injected++; return 503; }
      if (r.path.includes('/manifests/gone')) return 404;
      return undefined;
    });
    try {
      const ref = parseRegistryRef(`${proxy.host}/retry:1`);
      const pushed = await pushImage(client(), src.content, img.manifestDesc, ref);
      expect(injected).toBe(2);
      expect((await client().resolve(ref)).digest).toBe(pushed.manifestDesc.digest);
      const before = proxy.requests.length;
      const err = await client().resolve(parseRegistryRef(`${proxy.host}/retry:gone`)).catch((e: unknown) => e);
      expect(err).toMatchObject({ registryCode: 'MANIFEST_UNKNOWN', status: 404, temporary: false });
      expect(proxy.requests.slice(before).filter((r) => r.path.includes('/manifests/'))).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
  });

  test('connection resets and bodies cut midway are retried', async () => {
    let resets = 0;
    let cuts = 0;
    const proxy = await startCountingProxy(reg.port, (r) => {
      if (r.method === 'GET' && r.path.includes('/manifests/') && resets < 1) { resets++; return 'reset'; }
      if (r.method === 'GET' && r.path.includes('/blobs/') && cuts < 2) { cuts++; return 'cut'; }
      return undefined;
    });
    try {
      const dst = await openStore(join(tmp, 'flaky-dst'));
      const pulled = await pullImage(client(), dst.content, parseRegistryRef(`${proxy.host}/x:1`));
      expect([resets, cuts]).toEqual([1, 2]);
      expect(pulled.fetched).toBe(3);
      expect((await dst.content.list()).length).toBe(4);
    } finally {
      await proxy.stop();
    }
  });

  test('an unknown tag is a clear IMAGE_NOT_FOUND', async () => {
    const err = await pullImage(client(), src.content, parseRegistryRef(`${reg.host}/x:nope`)).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'IMAGE_NOT_FOUND', registryCode: 'MANIFEST_UNKNOWN' });
    expect(String((err as Error).message)).toMatch(new RegExp(`^GET http://${reg.host}/v2/x/manifests/nope: MANIFEST_UNKNOWN`));
  });
});
