import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sha256Of } from '../../../src/core/digest.ts';
import { MediaType } from '../../../src/oci/mediaTypes.ts';
import type { Index, Manifest } from '../../../src/oci/types.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { parseRegistryRef } from '../../../src/registry/reference.ts';
import { tagImage } from '../../../src/store/images.ts';
import { openStore } from '../../../src/store/openStore.ts';
import { makeTempRoot, ok, type TempRoot } from '../../helpers/cli.ts';
import { imageOf, importBusybox, makeContext } from '../../helpers/image.ts';
import { makeTestImage, startRegistry, type RunningRegistry } from '../../helpers/registry.ts';
import { isRoot } from '../../helpers/rootfs.ts';

// Images that other tools push in Docker's formats: a v2 schema 2 manifest (skopeo
// --format v2s2, gzip layers) and a manifest list with several platforms.

let reg: RunningRegistry;
let t: TempRoot;
let v2s2: string;
let list: string;
/** Pushed is a manifest as the registry serves it. */
interface Pushed {
  digest: string;
  size: number;
  manifest: Manifest;
}

let amd64: Pushed;
let arm64: Pushed;

function raw(ref: string): Buffer {
  return execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
}

/** skopeoPush copies a tag of the store at root to the registry as Docker v2 schema 2, gzip layers. */
function skopeoPush(root: string, name: string, dest: string): Pushed {
  execFileSync('skopeo', ['copy', '-q', '--format', 'v2s2', '--dest-compress', '--dest-tls-verify=false', `oci:${join(root, 'oci')}:${name}`, `docker://${dest}`]);
  const bytes = raw(dest);
  return { digest: sha256Of(bytes), size: bytes.length, manifest: JSON.parse(bytes.toString()) as Manifest };
}

beforeAll(async () => {
  reg = await startRegistry();
  t = makeTempRoot('tsbuild-dockerfmt-');
  await importBusybox(t.root, t.dir, 'busybox:latest');
  const store = await openStore(t.root);
  const arm = await makeTestImage(store.content, [{ 'arch.txt': 'arm64\n' }], ['/bin/sh'], 'arm64');
  await tagImage(store.tags, 'other:arm64', arm.manifestDesc);
  v2s2 = `${reg.host}/dock/busybox:v2s2`;
  amd64 = skopeoPush(t.root, 'busybox:latest', v2s2);
  arm64 = skopeoPush(t.root, 'other:arm64', `${reg.host}/dock/busybox:arm64`);
  // The amd64 entry comes last, after a windows/amd64 and a linux/arm64 one: only os and arch together choose it.
  const entry = (m: Pushed, os: string, architecture: string, variant?: string) => ({
    mediaType: MediaType.DockerManifest, digest: m.digest, size: m.size,
    platform: { os, architecture, ...(variant ? { variant } : {}) },
  });
  const index = { schemaVersion: 2, mediaType: MediaType.DockerManifestList, manifests: [entry(arm64, 'windows', 'amd64'), entry(arm64, 'linux', 'arm64', 'v8'), entry(amd64, 'linux', 'amd64')] };
  list = `${reg.host}/dock/busybox:multi`;
  const client = new RegistryClient();
  try {
    await client.pushManifest(parseRegistryRef(list), Buffer.from(JSON.stringify(index)), MediaType.DockerManifestList);
  } finally {
    client.close();
  }
}, 60_000);
afterAll(async () => {
  await reg?.stop();
  t?.cleanup();
});

describe('Docker v2 schema 2 and manifest lists', () => {
  test('skopeo pushed what this test means to test', () => {
    expect(amd64.manifest.mediaType).toBe(MediaType.DockerManifest);
    expect(amd64.manifest.config.mediaType).toBe(MediaType.DockerConfig);
    expect(amd64.manifest.layers.map((l) => l.mediaType)).toEqual([MediaType.DockerLayerGzip]);
    expect((JSON.parse(raw(list).toString()) as Index).mediaType).toBe(MediaType.DockerManifestList);
  });

  test('pull of a v2s2 manifest keeps its bytes, digest and media types', async () => {
    const root = join(t.dir, 'pull-v2s2');
    const out = await ok(['--root', root, 'pull', v2s2]);
    expect(out.stdout).toContain(`Digest: ${amd64.digest}\n`);
    const img = imageOf(root, v2s2);
    expect(img.manifestDigest).toBe(amd64.digest);
    expect(img.manifest.mediaType).toBe(MediaType.DockerManifest);
    expect(img.config.rootfs.diff_ids).toEqual(imageOf(t.root, 'busybox:latest').config.rootfs.diff_ids);
  });

  test('pull of a manifest list takes the linux/amd64 entry and nothing of the others', async () => {
    const root = join(t.dir, 'pull-list');
    const out = await ok(['--root', root, 'pull', list]);
    expect(out.stdout).toContain(`Digest: ${amd64.digest}\n`);
    expect(imageOf(root, list).manifestDigest).toBe(amd64.digest);
    for (const d of [arm64.digest, arm64.manifest.config.digest, ...arm64.manifest.layers.map((l) => l.digest)]) {
      expect(existsSync(join(root, 'oci/blobs/sha256', d.slice(7)))).toBe(false);
    }
    const arm = await ok(['--root', root, 'pull', '--platform', 'linux/arm64', `${reg.host}/dock/busybox:multi`]);
    expect(arm.stdout).toContain(`Digest: ${arm64.digest}\n`);
  });

  test.runIf(isRoot).each([['v2s2'], ['multi']])('build FROM a %s image pulls it and runs on it; the result pushes', async (tag) => {
    const root = join(t.dir, `build-${tag}`);
    const base = `${reg.host}/dock/busybox:${tag}`;
    const ctx = makeContext(t.dir, { Buildfile: `FROM ${base}\nRUN echo on-docker-base > /hi && cat /bin/busybox > /dev/null\nCMD ["cat", "/hi"]\n` });
    await ok(['--root', root, 'build', '--progress=quiet', '-t', `${reg.host}/dock/built:${tag}`, ctx]);
    const built = imageOf(root, `${reg.host}/dock/built:${tag}`);
    const baseIds = imageOf(t.root, 'busybox:latest').config.rootfs.diff_ids as string[];
    expect(built.config.rootfs.diff_ids.slice(0, baseIds.length)).toEqual(baseIds);
    expect(built.config.rootfs.diff_ids).toHaveLength(baseIds.length + 1);
    expect(imageOf(root, base).manifestDigest).toBe(amd64.digest);
    // An OCI manifest names OCI types only: the Docker base layer is listed as tar+gzip (same blob).
    expect(built.manifest.mediaType).toBe(MediaType.OciManifest);
    expect(built.manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([MediaType.OciLayerGzip, MediaType.OciLayer]);

    await ok(['--root', root, 'push', `${reg.host}/dock/built:${tag}`]);
    const pushed = JSON.parse(raw(`${reg.host}/dock/built:${tag}`).toString()) as Manifest;
    expect(pushed.mediaType).toBe(MediaType.OciManifest);
    expect(pushed.layers.map((l) => l.mediaType)).toEqual([MediaType.OciLayerGzip, MediaType.OciLayerGzip]);
    // The base layer is pushed as it was pulled (same gzip blob, so a mount or HEAD hit, no re-compression).
    expect(pushed.layers[0]!.digest).toBe(amd64.manifest.layers[0]!.digest);
    const cfg = execFileSync('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reg.host}/dock/built:${tag}`]);
    expect(sha256Of(cfg)).toBe(built.manifest.config.digest);
  });
});
