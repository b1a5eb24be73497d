import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sha256Of } from '../../../src/core/digest.ts';
import { MediaType } from '../../../src/oci/mediaTypes.ts';
import type { Index, Manifest } from '../../../src/oci/types.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { pullImage } from '../../../src/registry/pull.ts';
import { pushImage } from '../../../src/registry/push.ts';
import { parseRegistryRef } from '../../../src/registry/reference.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { LocalStore } from '../../../src/store/types.ts';
import { makeTestImage, randomText, startCountingProxy, startRegistry, type CountingProxy, type RunningRegistry, type TestImage } from '../../helpers/registry.ts';

describe('upload paths', () => {
  let reg: RunningRegistry;
  let proxy: CountingProxy;
  let tmp: string;
  let store: LocalStore;
  let img: TestImage;
  const clients: RegistryClient[] = [];
  const client = (o: ConstructorParameters<typeof RegistryClient>[0] = {}) => {
    const c = new RegistryClient({ retryBaseMs: 10, ...o });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await startCountingProxy(reg.port);
    tmp = mkdtempSync(join(tmpdir(), 'tsbuild-uploads-'));
    store = await openStore(join(tmp, 'store'));
    img = await makeTestImage(store.content, [{ big: randomText(300_000) }, { small: 'x' }]);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await proxy?.stop();
    await reg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('chunked upload: PATCH with Content-Range, then PUT ?digest=', async () => {
    proxy.requests.length = 0;
    const ref = parseRegistryRef(`${proxy.host}/chunked:1`);
    const pushed = await pushImage(client({ chunkSize: 64 * 1024 }), store.content, img.manifestDesc, ref);
    const patches = proxy.requests.filter((r) => r.method === 'PATCH');
    // ~225 kB of gzip for the big layer: 4 chunks of at most 64 KiB; the small blobs go monolithic.
    expect(patches.length).toBeGreaterThanOrEqual(3);
    const puts = proxy.requests.filter((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/'));
    expect(puts).toHaveLength(3);
    const dst = await openStore(join(tmp, 'chunked-dst'));
    expect((await pullImage(client(), dst.content, parseRegistryRef(`${reg.host}/chunked:1`))).manifestDesc.digest).toBe(pushed.manifestDesc.digest);
    execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/chunked:1`]);
  });

  test('cross-repository mount instead of upload', async () => {
    const c = client();
    await pushImage(c, store.content, img.manifestDesc, parseRegistryRef(`${proxy.host}/team/a:1`));
    proxy.requests.length = 0;
    const res = await pushImage(c, store.content, img.manifestDesc, parseRegistryRef(`${proxy.host}/team/b:1`));
    expect(res.blobs.map((b) => b.result)).toEqual(['mounted', 'mounted', 'mounted']);
    const mounts = proxy.requests.filter((r) => r.method === 'POST');
    expect(mounts).toHaveLength(3);
    for (const m of mounts) expect(m.path).toMatch(/\?mount=sha256%3A[0-9a-f]{64}&from=team%2Fa$/);
    expect(proxy.requests.filter((r) => r.method === 'PATCH' || (r.method === 'PUT' && r.path.includes('/blobs/')))).toEqual([]);
    execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/team/b:1`]);
  });

  test('a pulled image mounts its layers when pushed to another repository', async () => {
    const dst = await openStore(join(tmp, 'mount-dst'));
    const c = client();
    const pulled = await pullImage(c, dst.content, parseRegistryRef(`${proxy.host}/team/a:1`));
    proxy.requests.length = 0;
    const res = await pushImage(c, dst.content, pulled.manifestDesc, parseRegistryRef(`${proxy.host}/team/c:1`));
    // pull recorded where each blob came from, so nothing is uploaded.
    expect(res.blobs.map((b) => b.result)).toEqual(['mounted', 'mounted', 'mounted']);
    // Already-gzip layers keep the manifest byte for byte.
    expect(res.manifestDesc.digest).toBe(pulled.manifestDesc.digest);
  });

  test('pull follows an index to linux/amd64', async () => {
    const c = client();
    const amd = await pushImage(c, store.content, img.manifestDesc, parseRegistryRef(`${reg.host}/multi:amd64`));
    // A second "platform": same blobs, different annotation, so a different manifest digest.
    const m = JSON.parse((await store.content.readBytes(amd.manifestDesc.digest)).toString()) as Manifest;
    const armBytes = Buffer.from(JSON.stringify({ ...m, annotations: { arch: 'arm64' } }));
    const arm = await c.pushManifest(parseRegistryRef(`${reg.host}/multi:arm64`), armBytes, MediaType.OciManifest);
    const index: Index = {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        { ...arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { ...amd.manifestDesc, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    const idxBytes = Buffer.from(JSON.stringify(index));
    const idx = await c.pushManifest(parseRegistryRef(`${reg.host}/multi:latest`), idxBytes, MediaType.OciIndex);
    expect(idx.digest).toBe(sha256Of(idxBytes));
    expect(await c.resolve(parseRegistryRef(`${reg.host}/multi`))).toMatchObject({ mediaType: MediaType.OciIndex, digest: idx.digest });

    const dst = await openStore(join(tmp, 'multi-dst'));
    const pulled = await pullImage(c, dst.content, parseRegistryRef(`${reg.host}/multi`));
    expect(pulled.manifestDesc.digest).toBe(amd.manifestDesc.digest);
    const err = await pullImage(c, dst.content, parseRegistryRef(`${reg.host}/multi`), { platform: { os: 'linux', architecture: 's390x' } }).catch((e: Error) => e);
    expect(String(err)).toMatch(/no image for linux\/s390x \(has: linux\/arm64\/v8, linux\/amd64\)/);
  });

  test('fetchBlob refuses bytes that do not match the digest', async () => {
    const c = client();
    const ref = parseRegistryRef(`${reg.host}/verify:1`);
    const data = Buffer.from('the real blob');
    await c.pushBlob(ref, { digest: sha256Of(data), size: data.length }, () => Readable.from([data]));
    const dst = await openStore(join(tmp, 'verify-dst'));
    const err = await c.fetchBlob(ref, { digest: sha256Of(data), size: data.length + 1 }, dst.content).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await dst.content.list()).toEqual([]);
  });

  test('a monolithic upload whose bytes do not match its digest is refused by the registry', async () => {
    const c = client();
    const err = await c.pushBlob(parseRegistryRef(`${reg.host}/verify:1`), { digest: sha256Of('other'), size: 5 }, () => Readable.from([Buffer.from('liars')])).catch((e: Error) => e);
    expect(err).toMatchObject({ registryCode: 'DIGEST_INVALID', temporary: false });
  });
});
