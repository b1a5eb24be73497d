import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { CliContext } from '../../../src/cli/context.ts';
import { importCommand } from '../../../src/cli/commands/import.ts';
import { readImage } from '../../../src/store/images.ts';
import { openStore } from '../../../src/store/openStore.ts';
import { OverlaySnapshotter } from '../../../src/snapshot/OverlaySnapshotter.ts';
import { hasBusybox, isRoot, makeBusyboxRootfs, makeBusyboxTar } from '../../helpers/rootfs.ts';
import { destroyRoot, tempRoot } from '../snapshot/helpers.ts';
import { snapshotTree } from '../snapshot/tree.ts';

let tmp: string;
let root: string;
beforeEach(async () => {
  tmp = await tempRoot('import');
  root = join(tmp, 'root');
});
afterEach(async () => { await destroyRoot(tmp); });

/** run calls the import command in-process, as main.ts would, capturing stdout. */
async function run(argv: string[], opts: { stdin?: Readable; env?: Record<string, string> } = {}): Promise<string> {
  let out = '';
  const stdout = new PassThrough();
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const ctx = {
    root, env: opts.env ?? {}, stdout, stderr: new PassThrough(), stdin: opts.stdin ?? new PassThrough(),
    isTTY: false, signal: new AbortController().signal,
  } as unknown as CliContext;
  expect(await importCommand(argv, ctx)).toBe(0);
  return out;
}

describe.runIf(isRoot && hasBusybox())('tsbuild import', () => {
  test('a busybox tarball becomes a tagged image that skopeo and umoci read', async () => {
    const tar = join(tmp, 'bb.tar');
    makeBusyboxTar(tmp, tar);
    const id = (await run([tar, 'bb'])).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);

    const store = await openStore(root);
    const img = await readImage(store, 'bb:latest');
    expect(img.id).toBe(id);
    expect(img.config).toMatchObject({ architecture: 'amd64', os: 'linux', config: {} });
    expect(img.config.config.Env).toBeUndefined();
    expect(img.config.history).toEqual([{ created: img.config.created, created_by: `tsbuild import ${tar}` }]);
    expect(img.manifest.layers).toHaveLength(1);
    expect(img.manifest.layers[0]!.mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
    expect(img.config.rootfs.diff_ids).toEqual([img.manifest.layers[0]!.digest]);
    // The extracted tree was kept as the layer's snapshot.
    const snaps = new OverlaySnapshotter({ root, store: store.content });
    expect(await snaps.has(img.config.rootfs.diff_ids[0]!)).toBe(true);

    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${root}/oci:bb:latest`], { encoding: 'utf8' }));
    expect(inspect.Layers).toEqual([img.manifest.layers[0]!.digest]);
    const bundle = join(tmp, 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${root}/oci:bb:latest`, bundle], { stdio: 'pipe' });
    const want = join(tmp, 'want');
    makeBusyboxRootfs(want);
    expect(snapshotTree(join(bundle, 'rootfs'), { mtimes: false })).toEqual(snapshotTree(want, { mtimes: false }));
    expect(execFileSync(join(bundle, 'rootfs/bin/busybox'), ['echo', 'hi'], { encoding: 'utf8' })).toBe('hi\n');
    expect(readdirSync(join(root, 'tmp')).filter((n) => n !== 'live')).toEqual(['locks']);
  });

  test('stdin and gzip give the same layer; SOURCE_DATE_EPOCH makes the image id reproducible', async () => {
    const tar = join(tmp, 'bb.tar');
    makeBusyboxTar(tmp, tar);
    writeFileSync(join(tmp, 'bb.tar.gz'), gzipSync(readFileSync(tar)));
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const a = await run(['-', 'x:1'], { stdin: createReadStream(join(tmp, 'bb.tar.gz')), env });
    const b = await run(['-', 'x:2'], { stdin: createReadStream(tar), env });
    expect(b).toBe(a);
    const store = await openStore(root);
    const img = await readImage(store, 'x:1');
    expect(img.config.created).toBe('2023-11-14T22:13:20.000Z');
    expect(img.config.history?.[0]?.created_by).toBe('tsbuild import -');
  });

  test('equal trees from different tar tools give the same layer', async () => {
    const src = join(tmp, 'src');
    mkdirSync(src);
    makeBusyboxRootfs(src);
    execFileSync('tar', ['--format=gnu', '--numeric-owner', '-C', src, '-cf', join(tmp, 'gnu.tar'), '.']);
    execFileSync('tar', ['--format=pax', '--numeric-owner', '-C', src, '-cf', join(tmp, 'pax.tar'), 'bin', 'etc', 'tmp', 'root', 'proc', 'dev', 'sys']);
    await run([join(tmp, 'gnu.tar'), 'g']);
    await run([join(tmp, 'pax.tar'), 'p']);
    const store = await openStore(root);
    expect((await readImage(store, 'g')).manifest.layers).toEqual((await readImage(store, 'p')).manifest.layers);
  });

  test('errors are one line naming the offending path', async () => {
    await expect(run([join(tmp, 'missing.tar'), 'm'])).rejects.toThrow(`import ${join(tmp, 'missing.tar')}: no such file`);
    writeFileSync(join(tmp, 'junk.tar'), 'this is not a tar archive'.repeat(50));
    await expect(run([join(tmp, 'junk.tar'), 'j'])).rejects.toThrow(new RegExp(`^import ${join(tmp, 'junk.tar')}: read tar: invalid header checksum`));
    await expect(run([join(tmp, 'junk.tar'), 'Bad:Name'])).rejects.toMatchObject({ code: 'BAD_REFERENCE' });
    await expect(run([])).rejects.toMatchObject({ code: 'USAGE' });
    const evil = join(tmp, 'evil.tar');
    execFileSync('sh', ['-c', `cd ${tmp} && mkdir -p e && echo x > e/f && tar -cf ${evil} -P --transform='s,^e/f,../escape,' e/f`]);
    await expect(run([evil, 'e'])).rejects.toThrow(/"\.\.\/escape" points outside the layer/);
    expect(existsSync(join(tmp, 'escape'))).toBe(false);
    expect(existsSync(join(root, 'escape'))).toBe(false);
    expect(readdirSync(join(root, 'tmp')).filter((n) => n !== 'live')).toEqual(['locks']);
  });
});
