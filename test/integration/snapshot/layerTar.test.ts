import { setAttributeSync } from '@napi-rs/xattr';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, linkSync, lutimesSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { applyLayer } from '../../../src/snapshot/applyLayer.ts';
import { writeLayerTar, type LayerTarOptions } from '../../../src/snapshot/layerTar.ts';
import { readTar } from '../../../src/snapshot/tarReader.ts';
import { isRoot } from '../../helpers/rootfs.ts';
import { snapshotTree } from './tree.ts';

let tmp: string;
beforeEach(async () => { tmp = await mkdtemp(join(tmpdir(), 'tsbuild-layertar-')); });
afterEach(async () => { await rm(tmp, { recursive: true, force: true }); });

/** tarOf runs writeLayerTar into memory. */
async function tarOf(dir: string, opts: LayerTarOptions = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write(c, _e, cb) { chunks.push(c as Buffer); cb(); } });
  await writeLayerTar(dir, out, opts);
  return Buffer.concat(chunks);
}

async function entries(tar: Buffer) {
  const out = [];
  for await (const e of readTar(Readable.from([tar]))) out.push(e.header);
  return out;
}

const T = 1_600_000_000;
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_raw+p, binary

/** fixture writes one of every entry kind a layer can hold. */
function fixture(dir: string): void {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  writeFileSync(join(dir, 'big'), Buffer.alloc(300_000, 7)); // bigger than one read chunk of the small-file path
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(join(dir, 'suid'), '#!/bin/sh\n');
  chmodSync(join(dir, 'suid'), 0o4755);
  mkdirSync(join(dir, 'sticky'));
  chmodSync(join(dir, 'sticky'), 0o1777);
  writeFileSync(join(dir, 'owned'), 'x');
  chownSync(join(dir, 'owned'), 1000, 50);
  linkSync(join(dir, 'etc/passwd'), join(dir, 'hardlink'));
  symlinkSync('../etc/passwd', join(dir, 'etc/link'));
  symlinkSync('/nonexistent/target', join(dir, 'dangling'));
  execFileSync('mknod', [join(dir, 'null'), 'c', '1', '3']);
  execFileSync('mknod', [join(dir, 'loop9'), 'b', '7', '9']);
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  const long = join(dir, 'a'.repeat(60), 'b'.repeat(60), 'c'.repeat(60));
  mkdirSync(long, { recursive: true });
  writeFileSync(join(long, `${'d'.repeat(120)}.txt`), 'long');
  writeFileSync(join(dir, 'ünïcødé'), 'u');
  writeFileSync(join(dir, 'cap'), 'c');
  setAttributeSync(join(dir, 'cap'), 'security.capability', CAP);
  setAttributeSync(join(dir, 'cap'), 'user.note', 'hello');
  setAttributeSync(join(dir, 'cap'), 'trusted.overlay.origin', 'x'); // overlay's own: must not leak
  for (const p of ['etc/link', 'dangling']) lutimesSync(join(dir, p), T, T);
  utimesSync(join(dir, 'big'), T, T + 0.75);
}

describe.runIf(isRoot)('writeLayerTar', () => {
  test('round-trips every entry kind through applyLayer', async () => {
    const src = join(tmp, 'src');
    fixture(src);
    const tar = await tarOf(src);
    const dst = join(tmp, 'dst');
    mkdirSync(dst);
    const r = await applyLayer(Readable.from([tar]), dst, { whiteouts: 'delete' });
    expect(r.diffID).toBe(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
    expect(snapshotTree(dst)).toEqual(snapshotTree(src));
  });

  test('is deterministic, sorted, Docker-named, numeric-owned', async () => {
    const src = join(tmp, 'src');
    fixture(src);
    const a = await tarOf(src);
    expect((await tarOf(src)).equals(a)).toBe(true);
    const hs = await entries(a);
    const names = hs.map((h) => h.path + (h.kind === 'dir' ? '/' : ''));
    expect(names[0]).toBe(`${'a'.repeat(60)}/`);
    expect(names).toContain('etc/');
    expect(names).toContain('etc/passwd');
    expect(names.some((n) => n.startsWith('./') || n.startsWith('/'))).toBe(false);
    expect(names.indexOf('etc/')).toBeLessThan(names.indexOf('etc/link'));
    expect(hs.find((h) => h.path === 'hardlink')).toMatchObject({ kind: 'hardlink', linkpath: 'etc/passwd', size: 0 });
    expect(hs.find((h) => h.path === 'suid')?.mode).toBe(0o4755);
    expect(hs.find((h) => h.path === 'sticky')?.mode).toBe(0o1777);
    expect(hs.find((h) => h.path === 'owned')).toMatchObject({ uid: 1000, gid: 50 });
    expect(hs.find((h) => h.path === 'null')).toMatchObject({ kind: 'char', devmajor: 1, devminor: 3 });
    expect(hs.find((h) => h.path === 'big')?.mtime).toBe(T);
    const cap = hs.find((h) => h.path === 'cap')!;
    expect(cap.xattrs?.map(([k]) => k)).toEqual(['security.capability', 'user.note']);
    expect(cap.xattrs?.[0]?.[1].equals(CAP)).toBe(true);
    // GNU tar reads it too, with empty user/group names (shown numerically).
    const listing = execFileSync('tar', ['-tvf', '-'], { input: a, encoding: 'utf8' });
    expect(listing).toMatch(/^-rwsr-xr-x 0\/0 .* suid$/m);
    expect(listing).toMatch(/^-rw-r--r-- 1000\/50 .* owned$/m);
    expect(listing).toContain(`${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(60)}/${'d'.repeat(120)}.txt`);
    expect(listing).toContain('ünïcødé');
  });

  test('clamps mtimes to SOURCE_DATE_EPOCH', async () => {
    const src = join(tmp, 'src');
    fixture(src);
    const hs = await entries(await tarOf(src, { sourceDateEpoch: 1000 }));
    expect(new Set(hs.map((h) => h.mtime))).toEqual(new Set([1000]));
    const clamped = await entries(await tarOf(src, { sourceDateEpoch: T + 1 }));
    expect(clamped.find((h) => h.path === 'big')?.mtime).toBe(T);
  });

  test('turns overlay whiteouts and opaque dirs into OCI markers', async () => {
    const src = join(tmp, 'src');
    mkdirSync(join(src, 'd/sub'), { recursive: true });
    writeFileSync(join(src, 'd/sub/new'), 'n');
    setAttributeSync(join(src, 'd'), 'trusted.overlay.opaque', 'y');
    execFileSync('mknod', [join(src, 'gone'), 'c', '0', '0']);
    linkSync(join(src, 'gone'), join(src, 'd/gone2')); // the kernel shares whiteout inodes
    const names = (await entries(await tarOf(src))).map((h) => `${h.kind}:${h.path}`);
    expect(names).toEqual(['dir:d', 'file:d/.wh..wh..opq', 'file:d/.wh.gone2', 'dir:d/sub', 'file:d/sub/new', 'file:.wh.gone']);
  });

  test('leaves out empty mount-point stubs, keeps filled ones', async () => {
    const src = join(tmp, 'src');
    mkdirSync(join(src, 'etc'), { recursive: true });
    mkdirSync(join(src, 'proc'));
    mkdirSync(join(src, 'dev/pts'), { recursive: true });
    writeFileSync(join(src, 'etc/resolv.conf'), '');
    writeFileSync(join(src, 'etc/hosts'), '127.0.0.1 me\n');
    writeFileSync(join(src, 'etc/hostname'), '');
    const names = (await entries(await tarOf(src, { stubs: ['etc/resolv.conf', 'etc/hosts', 'etc/hostname', 'proc', 'dev', 'dev/pts'] }))).map((h) => h.path);
    expect(names).toEqual(['etc', 'etc/hosts']);
  });

  test('an empty dir gives an empty tar (two zero blocks)', async () => {
    const tar = await tarOf(tmp);
    expect(tar.length).toBe(1024);
    expect(tar.every((b) => b === 0)).toBe(true);
  });

  test('honours back-pressure and fails if the output dies', async () => {
    const src = join(tmp, 'src');
    fixture(src);
    const slow = new PassThrough({ highWaterMark: 1024 });
    const p = writeLayerTar(src, slow);
    let total = 0;
    for await (const c of slow) { total += (c as Buffer).length; if (total > 200_000) break; } // breaking destroys slow
    await expect(p).rejects.toThrow();
  });
});
