import { getAttributeSync } from '@napi-rs/xattr';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, existsSync, writeFileSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { sha256Of } from '../../../src/core/digest.ts';
import { applyLayer, type WhiteoutMode } from '../../../src/snapshot/applyLayer.ts';
import { paxRecord } from '../../../src/snapshot/tarFormat.ts';
import { isRoot } from '../../helpers/rootfs.ts';
import { snapshotTree } from './tree.ts';

/** Crafted is one hand-made tar entry; type is node-tar's name for the typeflag. */
interface Crafted {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'ExtendedHeader';
  body?: string | Buffer;
  linkpath?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** craft builds a tar byte by byte with node-tar's Header, trusting nothing of ours. */
function craft(entries: Crafted[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = typeof e.body === 'string' ? Buffer.from(e.body) : e.body ?? Buffer.alloc(0);
    const block = Buffer.alloc(512);
    new Header({
      path: e.path, type: e.type ?? 'File', size: body.length, mode: e.mode ?? (e.type === 'Directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: new Date(1_500_000_000_000), linkpath: e.linkpath ?? '', uname: '', gname: '',
    }).encode(block);
    parts.push(block, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

let tmp: string;
let dir: string;
let outside: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tsbuild-apply-'));
  dir = join(tmp, 'root');
  outside = join(tmp, 'outside');
  mkdirSync(dir);
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim'), 'precious');
});
afterEach(async () => { await rm(tmp, { recursive: true, force: true }); });

const apply = (tar: Buffer, whiteouts: WhiteoutMode = 'delete') => applyLayer(Readable.from([tar]), dir, { whiteouts });

/** untouched checks that nothing outside dir changed. */
function untouched(): void {
  expect(readdirSync(tmp).sort()).toEqual(['outside', 'root']);
  expect(readdirSync(outside)).toEqual(['victim']);
  expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('precious');
}

describe.runIf(isRoot)('applyLayer refuses to write outside dir', () => {
  test('../ names are refused', async () => {
    await expect(apply(craft([{ path: '../outside/victim', body: 'pwned' }]))).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    await expect(apply(craft([{ path: 'a/../../x', body: 'pwned' }]))).rejects.toThrow(/outside the layer/);
    untouched();
  });

  test('absolute names land inside dir', async () => {
    await apply(craft([{ path: `${outside}/victim`, body: 'pwned' }, { path: '/etc/passwd', body: 'ok' }]));
    untouched();
    expect(readFileSync(join(dir, outside, 'victim'), 'utf8')).toBe('pwned');
    expect(readFileSync(join(dir, 'etc/passwd'), 'utf8')).toBe('ok');
  });

  test('a symlink planted by an earlier entry is followed inside dir only', async () => {
    await apply(craft([
      { path: 'abs', type: 'SymbolicLink', linkpath: outside },
      { path: 'abs/victim', body: 'pwned' },
      { path: 'rel', type: 'SymbolicLink', linkpath: '../../../outside' },
      { path: 'rel/victim', body: 'pwned2' },
      { path: 'dot', type: 'SymbolicLink', linkpath: '..' },
      { path: 'dot/dot/escape', body: 'pwned3' },
    ]));
    untouched();
    expect(readFileSync(join(dir, outside, 'victim'), 'utf8')).toBe('pwned');
    expect(readFileSync(join(dir, 'outside/victim'), 'utf8')).toBe('pwned2');
    expect(readFileSync(join(dir, 'escape'), 'utf8')).toBe('pwned3');
  });

  test('a symlink as the last component is replaced, not written through', async () => {
    await apply(craft([
      { path: 'f', type: 'SymbolicLink', linkpath: `${outside}/victim` },
      { path: 'f', body: 'replaced' },
    ]));
    untouched();
    expect(lstatSync(join(dir, 'f')).isFile()).toBe(true);
  });

  test('hardlinks to outside are refused or resolved inside', async () => {
    await expect(apply(craft([{ path: 'h', type: 'Link', linkpath: '../outside/victim' }]))).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    await expect(apply(craft([{ path: 'h2', type: 'Link', linkpath: `${outside}/victim` }]))).rejects.toThrow(/h2/);
    // Through a planted symlink: the symlink's own parent chain is resolved inside dir.
    await expect(apply(craft([
      { path: 'out', type: 'SymbolicLink', linkpath: outside },
      { path: 'h3', type: 'Link', linkpath: 'out/victim' },
    ]))).rejects.toThrow(/h3/);
    untouched();
  });

  test('a hardlink to a symlink links the symlink itself', async () => {
    await apply(craft([
      { path: 'sl', type: 'SymbolicLink', linkpath: `${outside}/victim` },
      { path: 'hl', type: 'Link', linkpath: 'sl' },
    ]));
    untouched();
    expect(lstatSync(join(dir, 'hl')).isSymbolicLink()).toBe(true);
  });

  test('a whiteout cannot delete outside dir', async () => {
    symlinkSync(outside, join(dir, 'lnk'));
    await apply(craft([{ path: 'lnk/.wh.victim' }]));
    await expect(apply(craft([{ path: '../.wh.outside' }]))).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    untouched();
  });
});

describe.runIf(isRoot)('applyLayer whiteouts', () => {
  const lower = () => {
    mkdirSync(join(dir, 'd/keep'), { recursive: true });
    writeFileSync(join(dir, 'd/old'), 'o');
    writeFileSync(join(dir, 'd/keep/x'), 'x');
    writeFileSync(join(dir, 'f'), 'f');
  };

  test("'delete' removes whited-out paths and clears opaque dirs, keeping this layer's entries", async () => {
    lower();
    await apply(craft([
      { path: '.wh.f' },
      { path: 'd/', type: 'Directory' },
      { path: 'd/new', body: 'n' },
      { path: 'd/.wh..wh..opq' },
      { path: 'd/keep/y', body: 'y' },
    ]));
    expect(existsSync(join(dir, 'f'))).toBe(false);
    expect(readdirSync(join(dir, 'd')).sort()).toEqual(['keep', 'new']);
    expect(readdirSync(join(dir, 'd/keep'))).toEqual(['y']);
  });

  test('a same-layer entry wins over its whiteout', async () => {
    await apply(craft([{ path: 'x', body: 'mine' }, { path: '.wh.x' }]));
    expect(readFileSync(join(dir, 'x'), 'utf8')).toBe('mine');
  });

  test("'overlay' makes 0/0 char devices and opaque xattrs", async () => {
    await apply(craft([
      { path: '.wh.f' },
      { path: 'a/b/.wh.g' },
      { path: 'd/', type: 'Directory' },
      { path: 'd/.wh..wh..opq' },
      { path: '.wh..wh.plnk', type: 'Directory' }, // aufs metadata: ignored
    ]), 'overlay');
    for (const p of ['f', 'a/b/g']) {
      const st = lstatSync(join(dir, p));
      expect(st.isCharacterDevice() && st.rdev === 0).toBe(true);
    }
    expect(getAttributeSync(join(dir, 'd'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(readdirSync(dir).sort()).toEqual(['a', 'd', 'f']); // the shared whiteout template is gone
  });
});

describe.runIf(isRoot)('applyLayer formats', () => {
  test('gzip is recognised and the DiffID is of the uncompressed tar', async () => {
    const tar = craft([{ path: 'a', body: 'hello' }]);
    const r = await applyLayer(Readable.from([gzipSync(tar)]), dir, { whiteouts: 'delete' });
    expect(r).toMatchObject({ diffID: sha256Of(tar), size: tar.length, entries: 1 });
  });

  test('PAX records: long names, binary xattrs; overlay xattrs dropped', async () => {
    const cap = Buffer.from([1, 0, 0, 2, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const long = `${'x'.repeat(150)}/${'y'.repeat(150)}`;
    const pax = Buffer.concat([paxRecord('path', long), paxRecord('SCHILY.xattr.security.capability', cap), paxRecord('SCHILY.xattr.trusted.overlay.redirect', '/etc')]);
    await apply(craft([{ path: 'PaxHeaders/x', type: 'ExtendedHeader', body: pax }, { path: 'short', body: 'data', mode: 0o4711, uid: 7, gid: 8 }]));
    const p = join(dir, long);
    expect(readFileSync(p, 'utf8')).toBe('data');
    expect(lstatSync(p)).toMatchObject({ uid: 7, gid: 8, mode: 0o104711 });
    expect(getAttributeSync(p, 'security.capability')?.equals(cap)).toBe(true);
    expect(getAttributeSync(p, 'trusted.overlay.redirect')).toBeNull();
  });

  test('a GNU tar of a tree (long names, devices, hardlinks) extracts to the same tree', async () => {
    const src = join(tmp, 'src');
    mkdirSync(join(src, 'n'.repeat(120), 'm'.repeat(120)), { recursive: true });
    writeFileSync(join(src, 'n'.repeat(120), 'm'.repeat(120), 'f'), 'deep');
    execFileSync('mknod', [join(src, 'tty'), 'c', '5', '0']);
    writeFileSync(join(src, 'a'), 'a');
    execFileSync('ln', [join(src, 'a'), join(src, 'b')]);
    const tar = execFileSync('tar', ['--numeric-owner', '--format=gnu', '-C', src, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
    await apply(tar);
    expect(snapshotTree(dir)).toEqual(snapshotTree(src));
  });

  test('truncated and corrupt archives are BAD_ARCHIVE', async () => {
    const tar = craft([{ path: 'a', body: 'x'.repeat(2000) }]);
    await expect(apply(tar.subarray(0, 1024))).rejects.toMatchObject({ code: 'BAD_ARCHIVE' });
    const bad = Buffer.from(tar);
    bad[10] = 0x41; // breaks the checksum
    await expect(apply(bad)).rejects.toMatchObject({ code: 'BAD_ARCHIVE' });
    await expect(apply(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]))).rejects.toThrow(/zstd/);
  });
});
