import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sha256Of } from '../../../src/core/digest.ts';
import { MediaType } from '../../../src/oci/mediaTypes.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { parseRegistryRef } from '../../../src/registry/reference.ts';
import { makeTempRoot, tsbuild, type TempRoot } from '../../helpers/cli.ts';
import { startRegistry, type RunningRegistry } from '../../helpers/registry.ts';

// Digests from a registry are as untrusted as an archive's: a manifest, an index or a
// config that names a blob by a path must be refused before anything uses it. The
// store's ROOT/oci/blobs/sha256/../../../../secret is the test's host file below.

const PATHLIKE = 'sha256:../../../../secret';
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const desc = (mediaType: string, b: Buffer) => ({ mediaType, digest: sha256Of(b), size: b.length });

interface Served {
  body: Buffer;
  type?: string;
  /** Overrides the Docker-Content-Digest header (default: the body's digest). */
  digestHeader?: string;
}

/** hostileRegistry answers /v2/ and the paths in routes (GET and HEAD), 404 otherwise; it logs every request. */
async function hostileRegistry(routes: Map<string, Served>): Promise<{ host: string; log: string[]; close(): Promise<void> }> {
  const log: string[] = [];
  const server = http.createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    if (req.url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const r = routes.get(req.url ?? '');
    if (!r) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND","message":"not here"}]}');
    res.writeHead(200, { 'content-type': r.type ?? 'application/octet-stream', 'content-length': r.body.length, 'docker-content-digest': r.digestHeader ?? sha256Of(r.body) });
    res.end(req.method === 'HEAD' ? undefined : r.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { host: `127.0.0.1:${port}`, log, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let t: TempRoot;
beforeAll(() => {
  t = makeTempRoot('tsbuild-hostile-reg-');
  writeFileSync(join(t.dir, 'secret'), 'host secret\n');
});
afterAll(() => t.cleanup());

/** pullRefused pulls ref and checks: status 1, one error line matching msg (which names the manifest or config), a hint, no new tag. */
async function pullRefused(ref: string, msg: RegExp): Promise<void> {
  const index = () => readFileSync(join(t.root, 'oci/index.json'), 'utf8');
  await tsbuild(['--root', t.root, 'images']);
  const before = index();
  const r = await tsbuild(['--root', t.root, 'pull', ref]);
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  expect(lines, r.stderr).toHaveLength(2);
  expect(lines[0]).toMatch(msg);
  expect(lines[1]).toMatch(/^ {2}hint: \S/);
  expect(r.code).toBe(1);
  expect(index()).toBe(before);
}

describe('a registry that serves path-like digests', () => {
  const config = json({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256Of('x')] } });

  test('a manifest whose layer is named by a path to a host file', async () => {
    const manifest = json({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc(MediaType.OciConfig, config), layers: [{ mediaType: MediaType.OciLayer, digest: PATHLIKE, size: 12 }] });
    const reg = await hostileRegistry(new Map([
      ['/v2/evil/manifests/1', { body: manifest, type: MediaType.OciManifest }],
      [`/v2/evil/blobs/${sha256Of(config)}`, { body: config }],
    ]));
    try {
      await pullRefused(`${reg.host}/evil:1`, new RegExp(`^error: manifest ${reg.host}/evil:1: layers\\[0\\]\\.digest: invalid digest "sha256:\\.\\./\\.\\./\\.\\./\\.\\./secret"`));
      // The manifest was refused as it came: no blob was asked for.
      expect(reg.log.filter((l) => l.includes('/blobs/'))).toEqual([]);
    } finally {
      await reg.close();
    }
  });

  test('an index whose linux/amd64 manifest is named by a path', async () => {
    const index = json({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciManifest, digest: 'sha256:../../../v2/evil/manifests/2', size: 10, platform: { os: 'linux', architecture: 'amd64' } }] });
    const reg = await hostileRegistry(new Map([['/v2/evil/manifests/1', { body: index, type: MediaType.OciIndex }]]));
    try {
      await pullRefused(`${reg.host}/evil:1`, new RegExp(`^error: manifest ${reg.host}/evil:1: manifests\\[0\\]\\.digest: invalid digest "sha256:\\.\\./\\.\\./\\.\\./v2/evil/manifests/2"`));
      expect(reg.log).toEqual(['GET /v2/', 'GET /v2/evil/manifests/1']);
    } finally {
      await reg.close();
    }
  });

  test('a Docker-Content-Digest header that is not a digest', async () => {
    const manifest = json({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc(MediaType.OciConfig, config), layers: [] });
    const reg = await hostileRegistry(new Map([['/v2/evil/manifests/1', { body: manifest, type: MediaType.OciManifest, digestHeader: '../../etc/passwd' }]]));
    try {
      await pullRefused(`${reg.host}/evil:1`, new RegExp(`^error: manifest ${reg.host}/evil:1: Docker-Content-Digest: invalid digest "\\.\\./\\.\\./etc/passwd": want ALGORITHM:HEX`));
    } finally {
      await reg.close();
    }
  });
});

describe('a real registry (docker-registry) holding a config with a path-like diff_id', () => {
  let reg: RunningRegistry;
  beforeAll(async () => { reg = await startRegistry(); });
  afterAll(async () => { await reg?.stop(); });

  test('is refused when pulled: the diff_id would name a snapshot directory', async () => {
    // docker-registry checks that a manifest's blobs exist; what a config says is not its business.
    const layer = Buffer.alloc(1024);
    const config = json({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: ['sha256:../../../../tmp/x'] } });
    const manifest = json({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc(MediaType.OciConfig, config), layers: [desc(MediaType.OciLayer, layer)] });
    const client = new RegistryClient();
    const ref = parseRegistryRef(`${reg.host}/evil:1`);
    try {
      for (const b of [layer, config]) await client.pushBlob(ref, { digest: sha256Of(b), size: b.length }, () => Readable.from([b]));
      await client.pushManifest(ref, manifest, MediaType.OciManifest);
    } finally {
      client.close();
    }
    await pullRefused(`${reg.host}/evil:1`, new RegExp(`^error: ${reg.host}/evil:1: config ${sha256Of(config)}: rootfs\\.diff_ids\\[0\\]: invalid digest "sha256:\\.\\./`));
  });
});
