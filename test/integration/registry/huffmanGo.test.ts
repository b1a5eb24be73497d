// Blocks that gzip codes with literals only (base64 and the like) are made by our own
// coder (native/huffman.c). zlib and gzip(1) read them (test/integration/registry/gzip.test.ts);
// here Go's compress/gzip does too, as every registry client and runtime in Go will:
// tsbuild pushes the layer, skopeo copies it as it is into an OCI layout, umoci unpacks it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { makeTempRoot, ok, type TempRoot } from '../../helpers/cli.ts';
import { startRegistry, type RunningRegistry } from '../../helpers/registry.ts';

let t: TempRoot;
let reg: RunningRegistry;
beforeAll(async () => {
  t = makeTempRoot('tsbuild-huffman-go-');
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
  t?.cleanup();
});

test('a pushed layer of Huffman-coded blocks unpacks with Go (skopeo → umoci)', async () => {
  const rootfs = join(t.dir, 'rootfs');
  mkdirSync(rootfs);
  const text = randomBytes(2_400_000).toString('base64'); // ~3.2 MB: several gzip blocks, all Huffman-coded
  writeFileSync(join(rootfs, 'data.b64'), text);
  await tar.c({ cwd: rootfs, file: join(t.dir, 'rootfs.tar'), portable: true }, ['.']);
  const ref = `${reg.host}/huffman/go:1`;
  await ok(['--root', t.root, 'import', join(t.dir, 'rootfs.tar'), ref]);
  await ok(['--root', t.root, 'push', '-q', ref]);

  const layout = join(t.dir, 'layout');
  execFileSync('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:go`], { stdio: 'pipe' });
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(layout, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([expect.stringMatching(/gzip/)]);
  const bundle = join(t.dir, 'bundle');
  execFileSync('umoci', ['unpack', '--image', `${layout}:go`, bundle], { stdio: 'pipe' });
  expect(readFileSync(join(bundle, 'rootfs/data.b64'), 'utf8') === text).toBe(true);
});
