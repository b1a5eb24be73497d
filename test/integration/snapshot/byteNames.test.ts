import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { getAttributeSync, setAttributeSync } from '@napi-rs/xattr';
import { decodeName, encodeName } from '../../../src/core/names.ts';
import { createServer } from 'node:net';
import { applyLayer } from '../../../src/snapshot/applyLayer.ts';
import { commitDir } from '../../../src/snapshot/dirLayer.ts';
import { openStore } from '../../../src/store/openStore.ts';
import { writeLayerTar } from '../../../src/snapshot/layerTar.ts';
import { readTar } from '../../../src/snapshot/tarReader.ts';
import { writeTreeTar, type TarTree, type TarTreeNode } from '../../../src/snapshot/treeTar.ts';
import { isRoot } from '../../helpers/rootfs.ts';
import { FF, FFFD, byteEntries, filesByName, latin1, rawByteTar } from '../../helpers/tarNames.ts';

// Names are bytes through the snapshot module: an upper dir with `\xff` and U+FFFD side by
// side becomes a layer tar that holds both (raw PAX names), and extracting a layer writes
// both back, with symlink targets, hard links, whiteouts, opaque dirs and xattrs.

let tmp: string;
beforeEach(async () => { tmp = await mkdtemp(join(tmpdir(), 'tsbuild-bytenames-')); });
afterEach(async () => { await rm(tmp, { recursive: true, force: true }); });

/** at is dir/name as a Buffer path (name bytes kept). */
const at = (dir: string, ...parts: Array<string | Buffer>) => Buffer.concat([Buffer.from(dir), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))]);
const FE = Buffer.of(0xfe);
const LONG = Buffer.concat([Buffer.from('n'.repeat(150)), Buffer.of(0xfd)]);

async function tarOf(dir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write(c, _e, cb) { chunks.push(c as Buffer); cb(); } });
  await writeLayerTar(dir, out);
  return Buffer.concat(chunks);
}

/** upper makes an overlay-style upper dir whose names are bytes. */
function upper(dir: string): void {
  mkdirSync(dir);
  writeFileSync(at(dir, '/', FF), 'A');
  writeFileSync(at(dir, '/', FFFD), 'B');
  mkdirSync(at(dir, '/d', FE));
  writeFileSync(at(dir, '/d', FE, '/f'), 'C');
  writeFileSync(at(dir, '/', LONG), 'D');
  symlinkSync(at('t', FF), at(dir, '/l', FF));
  linkSync(at(dir, '/', FF), at(dir, '/h', FF));
  execFileSync('mknod', [join(dir, 'wh'), 'c', '0', '0']); // a whiteout, renamed to a byte name
  renameSync(join(dir, 'wh'), at(dir, '/w', FF));
  mkdirSync(join(dir, 'op'));
  setAttributeSync(join(dir, 'op'), 'trusted.overlay.opaque', 'y');
  renameSync(join(dir, 'op'), at(dir, '/o', FF));
  writeFileSync(join(dir, 'xa'), 'X');
  setAttributeSync(join(dir, 'xa'), 'user.note', 'kept');
  renameSync(join(dir, 'xa'), at(dir, '/x', FF));
}

describe.runIf(isRoot)('names are bytes in layers', () => {
  test('writeLayerTar keeps \\xff and U+FFFD apart, raw in PAX, sorted by bytes, with targets, links, whiteouts, opaque dirs and xattrs', async () => {
    const src = join(tmp, 'upper');
    upper(src);
    const tar = await tarOf(src);
    const entries = byteEntries(tar);
    // Upper dir names in byte order; a whiteout stands where the name it hides sorts.
    expect(entries.map((e) => e.name.toString('latin1'))).toEqual([
      latin1('d', FE, '/'), latin1('d', FE, '/f'), latin1('h', FF), latin1('l', FF), latin1(LONG),
      latin1('o', FF, '/'), latin1('o', FF, '/.wh..wh..opq'), latin1('.wh.w', FF), latin1('x', FF), latin1(FFFD), latin1(FF),
    ]);
    // \xff and h\xff share an inode: the first in byte order carries the content.
    expect(filesByName(entries)).toEqual({ [latin1('h', FF)]: 'A', [latin1(FFFD)]: 'B', [latin1('d', FE, '/f')]: 'C', [latin1(LONG)]: 'D', [latin1('x', FF)]: 'X', [latin1('o', FF, '/.wh..wh..opq')]: '', [latin1('.wh.w', FF)]: '' });
    expect(entries.find((e) => e.type === '2')!.linkname).toEqual(at('t', FF));
    expect(entries.find((e) => e.type === '1')).toMatchObject({ name: FF, linkname: at('h', FF) });
    // readTar gives back the same names as strings that encode to the same bytes.
    const read: string[] = [];
    for await (const e of readTar(Readable.from([tar]))) {
      read.push(e.header.path);
      if (e.header.path === decodeName(at('x', FF))) expect(e.header.xattrs).toEqual([['user.note', Buffer.from('kept')]]);
    }
    expect(read.map((p) => encodeName(p).toString('latin1'))).toEqual(entries.map((e) => e.name.toString('latin1').replace(/\/$/, '')));
    // No scratch dir is left beside the upper dir.
    expect(readdirSync(tmp)).toEqual(['upper']);
  });

  test.each(['overlay', 'delete'] as const)('applyLayer (%s) writes every byte name back', async (mode) => {
    const src = join(tmp, 'upper');
    upper(src);
    const dst = join(tmp, 'dst');
    mkdirSync(dst);
    await applyLayer(Readable.from([await tarOf(src)]), dst, { whiteouts: mode });
    expect(readFileSync(at(dst, '/', FF), 'utf8')).toBe('A');
    expect(readFileSync(at(dst, '/', FFFD), 'utf8')).toBe('B');
    expect(readFileSync(at(dst, '/d', FE, '/f'), 'utf8')).toBe('C');
    expect(readFileSync(at(dst, '/', LONG), 'utf8')).toBe('D');
    expect(readlinkSync(at(dst, '/l', FF), { encoding: 'buffer' })).toEqual(at('t', FF));
    expect(lstatSync(at(dst, '/h', FF)).ino).toBe(lstatSync(at(dst, '/', FF)).ino);
    // xattrs of a byte-named file, read through a UTF-8 name of the same inode.
    linkSync(at(dst, '/x', FF), join(tmp, 'probe'));
    expect(getAttributeSync(join(tmp, 'probe'), 'user.note')?.toString()).toBe('kept');
    if (mode === 'overlay') {
      const wh = lstatSync(at(dst, '/w', FF));
      expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
      renameSync(at(dst, '/o', FF), join(tmp, 'opq'));
      expect(getAttributeSync(join(tmp, 'opq'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    } else {
      expect(() => lstatSync(at(dst, '/w', FF))).toThrow(/ENOENT/);
    }
    // Nothing of the extraction's own (scratch dirs, whiteout template) is left.
    expect(readdirSync(dst).filter((n) => n.startsWith('.tsbuild'))).toEqual([]);
  });

  test('commitDir with adopt removes a left-out socket with a byte name from the snapshot, as from the tar', async () => {
    const dir = join(tmp, 'upper');
    mkdirSync(join(dir, 'run'), { recursive: true });
    writeFileSync(at(dir, '/run/', FFFD), 'B');
    const server = createServer();
    await new Promise<void>((res) => server.listen(join(dir, 'run/sock'), res));
    renameSync(join(dir, 'run/sock'), at(dir, '/run/', FF));
    server.close();
    const store = await openStore(join(tmp, 'root'));
    const layer = await commitDir(store.content, dir, { adopt: { adopt: async () => undefined } });
    expect(filesByName(byteEntries(readFileSync(store.content.path(layer!.digest))))).toEqual({ [latin1('run/', FFFD)]: 'B' });
    expect(readdirSync(join(dir, 'run'), { encoding: 'buffer' })).toEqual([FFFD]);
  });

  test('a whiteout of a byte name removes that name only, not its U+FFFD neighbour', async () => {
    const dst = join(tmp, 'dst');
    mkdirSync(dst);
    writeFileSync(at(dst, '/', FF), 'A');
    writeFileSync(at(dst, '/', FFFD), 'B');
    const src = join(tmp, 'upper');
    mkdirSync(src);
    execFileSync('mknod', [join(src, 'wh'), 'c', '0', '0']);
    renameSync(join(src, 'wh'), at(src, '/', FF));
    await applyLayer(Readable.from([await tarOf(src)]), dst, { whiteouts: 'delete' });
    expect(readdirSync(dst, { encoding: 'buffer' })).toEqual([FFFD]);
  });

  test.each(['gnu', 'posix', 'ustar'])('readTar reads the byte names GNU tar --format=%s writes', async (format) => {
    const src = join(tmp, 'src');
    mkdirSync(src);
    writeFileSync(at(src, '/', FF), 'A');
    writeFileSync(at(src, '/', FFFD), 'B');
    if (format !== 'ustar') writeFileSync(at(src, '/', LONG), 'D');
    symlinkSync(at('t', FE), at(src, '/l', FE));
    const tar = execFileSync('tar', [`--format=${format}`, '-C', src, '-cf', '-', '.']);
    const got: Record<string, string> = {};
    for await (const e of readTar(Readable.from([tar]))) {
      let body = '';
      for await (const c of e.body) body += c.toString('latin1');
      got[encodeName(e.header.path).toString('latin1')] = e.header.kind === 'symlink' ? `-> ${encodeName(e.header.linkpath!).toString('latin1')}` : body;
    }
    expect(got).toMatchObject({ [latin1('./', FF)]: 'A', [latin1('./', FFFD)]: 'B', [latin1('./l', FE)]: `-> ${latin1('t', FE)}` });
    if (format !== 'ustar') expect(got[latin1('./', LONG)]).toBe('D');
  });

  test('readTar reads what Go\'s archive/tar writes (Docker, BuildKit): the PAX name, not the USTAR name cut to `r/`', async () => {
    // Go keeps only the ASCII bytes of a PAX-named entry in its USTAR name field: `r/` for
    // `r/\xef\xbf\xbd`, which node-tar's Header takes for a directory of size 0.
    const tar = rawByteTar([
      { name: at('r/', FFFD), body: Buffer.from('B'), pax: true, ustarName: Buffer.from('r/') },
      { name: at('r/', FF), body: Buffer.from('A'), pax: true, ustarName: Buffer.from('r/') },
    ]);
    const got: Record<string, string> = {};
    for await (const e of readTar(Readable.from([tar]))) {
      let body = '';
      for await (const c of e.body) body += c.toString();
      got[encodeName(e.header.path).toString('latin1')] = `${e.header.kind}:${body}`;
    }
    expect(got).toEqual({ [latin1('r/', FFFD)]: 'file:B', [latin1('r/', FF)]: 'file:A' });
  });

  test('GNU tar reads back the byte names writeLayerTar writes', async () => {
    const src = join(tmp, 'upper');
    upper(src);
    const file = join(tmp, 'layer.tar');
    writeFileSync(file, await tarOf(src));
    const listed = execFileSync('tar', ['--quoting-style=literal', '-tf', file]).toString('latin1').split('\n').filter(Boolean);
    expect(listed).toContain(latin1(FF));
    expect(listed).toContain(latin1(FFFD));
    expect(listed).toContain(latin1(LONG));
  });

  test('writeTreeTar (COPY\'s streamed layer) writes byte names from byte-named sources, sorted by bytes', async () => {
    const src = join(tmp, 'ctx');
    mkdirSync(src);
    writeFileSync(at(src, '/', FF), 'A');
    writeFileSync(at(src, '/', FFFD), 'B');
    const meta = { mode: 0o644, uid: 0, gid: 0, mtimeMs: 1_600_000_000_000 };
    const file = (name: Buffer, size: number): TarTreeNode => ({ kind: 'file', file: { ...meta, source: decodeName(at(src, '/', name)), size } });
    const tree: TarTree = { kind: 'dir', meta, children: new Map([
      [decodeName(FF), file(FF, 1)], [decodeName(FFFD), file(FFFD, 1)], ['a', { kind: 'symlink', meta, target: decodeName(at('t', FF)) }],
    ]) };
    const chunks: Buffer[] = [];
    await writeTreeTar(tree, new Writable({ write(c, _e, cb) { chunks.push(c as Buffer); cb(); } }));
    const entries = byteEntries(Buffer.concat(chunks));
    expect(entries.map((e) => e.name)).toEqual([Buffer.from('a'), FFFD, FF]);
    expect(filesByName(entries)).toEqual({ [latin1(FF)]: 'A', [latin1(FFFD)]: 'B' });
    expect(entries[0]!.linkname).toEqual(at('t', FF));
  });
});
