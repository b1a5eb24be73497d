import { afterEach, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from '@napi-rs/xattr';
import { BuildContext } from '../../../src/context/BuildContext.ts';
import { copyInto, type CopyIntoOptions } from '../../../src/context/copyInto.ts';
import { lowerFromDirs, lowerFromRoot, resolveInLower } from '../../../src/context/lower.ts';
import { TsbuildError } from '../../../src/core/errors.ts';
import { isRoot } from '../../helpers/rootfs.ts';
import { makeTree, TempDirs, type Node } from '../../unit/context/tree.ts';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

const app: Record<string, Node> = {
  'src/a.js': { file: 'a', mode: 0o640, mtime: 1_000_000 },
  'src/lib/b.sh': { file: 'b', mode: 0o755 },
  'src/ln': { symlink: 'a.js' },
  'x.txt': 'x',
  'y.txt': 'y',
};

/** copy runs select + copyInto on a fresh context and layer; returns the layer dir. */
async function copy(spec: Record<string, Node>, sources: string[], dest: string, opts: CopyIntoOptions = {}, layer = tmp.make()): Promise<string> {
  const ctx = await BuildContext.open(makeTree(tmp.make(), spec));
  await copyInto(await ctx.select(sources), layer, dest, opts);
  return layer;
}

const mode = (p: string) => lstatSync(p).mode & 0o7777;
const owner = (p: string) => `${lstatSync(p).uid}:${lstatSync(p).gid}`;

async function copyError(p: Promise<unknown>): Promise<TsbuildError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(TsbuildError);
  return e as TsbuildError;
}

describe.runIf(isRoot)('copyInto destination rules', () => {
  test('COPY dir dst copies the contents of dir into a new dst', async () => {
    const l = await copy(app, ['src'], '/app');
    expect(readFileSync(join(l, 'app/a.js'), 'utf8')).toBe('a');
    expect(readFileSync(join(l, 'app/lib/b.sh'), 'utf8')).toBe('b');
    expect(existsSync(join(l, 'app/src'))).toBe(false);
    expect(mode(join(l, 'app'))).toBe(0o755);
  });

  test('COPY file dst makes dst the file; dst/ puts it inside', async () => {
    expect(readFileSync(join(await copy(app, ['x.txt'], '/out'), 'out'), 'utf8')).toBe('x');
    expect(readFileSync(join(await copy(app, ['x.txt'], '/out/'), 'out/x.txt'), 'utf8')).toBe('x');
  });

  test('a file into an existing image directory goes inside it', async () => {
    const rootfs = makeTree(tmp.make(), { 'etc/app': { dir: true } });
    const l = await copy(app, ['x.txt'], '/etc/app', { lower: lowerFromRoot(rootfs) });
    expect(readFileSync(join(l, 'etc/app/x.txt'), 'utf8')).toBe('x');
  });

  test('several sources (or wildcard matches) make dst a directory', async () => {
    const l = await copy(app, ['x.txt', 'y.txt'], '/many');
    expect(readFileSync(join(l, 'many/y.txt'), 'utf8')).toBe('y');
    const l2 = await copy(app, ['*.txt'], '/glob');
    expect(readFileSync(join(l2, 'glob/x.txt'), 'utf8')).toBe('x');
  });

  test('a relative dst is taken from the workdir; . is the workdir', async () => {
    expect(existsSync(join(await copy(app, ['x.txt'], 'rel/', { workdir: '/w' }), 'w/rel/x.txt'))).toBe(true);
    expect(existsSync(join(await copy(app, ['x.txt'], '.', { workdir: '/w' }), 'w/x.txt'))).toBe(true);
  });

  test('missing parents are 0755 root-owned; --chown owns them; octal --chmod applies (BuildKit)', async () => {
    const l = await copy(app, ['x.txt'], '/a/b/c');
    expect([mode(join(l, 'a')), owner(join(l, 'a/b'))]).toEqual([0o755, '0:0']);
    const l2 = await copy(app, ['x.txt'], '/a/b/', { chown: { uid: 1000, gid: 1001 } });
    expect(owner(join(l2, 'a'))).toBe('1000:1001');
    const l3 = await copy(app, ['x.txt'], '/a/b/', { chmod: '700' });
    expect(mode(join(l3, 'a/b'))).toBe(0o700);
  });

  test('existing image parents keep their image metadata in the layer', async () => {
    const rootfs = makeTree(tmp.make(), { 'opt': { dir: true, mode: 0o711 } });
    chownSync(join(rootfs, 'opt'), 5, 6);
    utimesSync(join(rootfs, 'opt'), 12345, 12345);
    const l = await copy(app, ['x.txt'], '/opt/new/', { lower: lowerFromRoot(rootfs), chown: { uid: 7, gid: 7 } });
    expect([mode(join(l, 'opt')), owner(join(l, 'opt')), statSync(join(l, 'opt')).mtimeMs]).toEqual([0o711, '5:6', 12345000]);
    expect(owner(join(l, 'opt/new'))).toBe('7:7');
  });
});

describe.runIf(isRoot)('copyInto metadata', () => {
  test('modes and mtimes come from the context; owner is 0:0', async () => {
    const l = await copy(app, ['src'], '/app');
    expect(mode(join(l, 'app/a.js'))).toBe(0o640);
    expect(mode(join(l, 'app/lib/b.sh'))).toBe(0o755);
    expect(statSync(join(l, 'app/a.js')).mtimeMs).toBe(1_000_000_000);
    expect(owner(join(l, 'app/a.js'))).toBe('0:0');
  });

  test('--chmod and --chown apply to files and dirs', async () => {
    const l = await copy(app, ['src'], '/app', { chmod: '0600', chown: { uid: 33, gid: 44 } });
    expect([mode(join(l, 'app/a.js')), mode(join(l, 'app/lib'))]).toEqual([0o600, 0o600]);
    expect(owner(join(l, 'app/lib/b.sh'))).toBe('33:44');
    const l2 = await copy(app, ['src'], '/app', { chmod: 'u=rwX,go=rX' });
    expect([mode(join(l2, 'app/a.js')), mode(join(l2, 'app/lib/b.sh')), mode(join(l2, 'app/lib'))]).toEqual([0o644, 0o755, 0o755]);
  });

  test('symlinks are copied as symlinks, owned by --chown', async () => {
    const l = await copy(app, ['src'], '/app', { chown: { uid: 9, gid: 9 } });
    expect(readlinkSync(join(l, 'app/ln'))).toBe('a.js');
    expect(owner(join(l, 'app/ln'))).toBe('9:9');
  });

  test('hard links inside a source stay hard links', async () => {
    const l = await copy({ 'd/a': 'x', 'd/b': { hardlink: 'd/a' } }, ['d'], '/h');
    expect(statSync(join(l, 'h/a')).ino).toBe(statSync(join(l, 'h/b')).ino);
  });

  test('--parents keeps source paths under dest', async () => {
    const ctx = await BuildContext.open(makeTree(tmp.make(), { 'x/a.txt': '1', 'y/a.txt': '2' }));
    const l = tmp.make();
    await copyInto(await ctx.select(['./x/a.txt', './y/a.txt'], { parents: true }), l, '/p/');
    expect([readFileSync(join(l, 'p/x/a.txt'), 'utf8'), readFileSync(join(l, 'p/y/a.txt'), 'utf8')]).toEqual(['1', '2']);
  });
});

describe.runIf(isRoot)('copyInto safety', () => {
  test('an image symlink in the destination path is followed inside the rootfs', async () => {
    const rootfs = makeTree(tmp.make(), { 'opt/app': { dir: true }, 'app': { symlink: '/opt/app' }, 'esc': { symlink: '../../../../etc' } });
    const lower = lowerFromRoot(rootfs);
    expect(await resolveInLower(lower, '/esc/passwd')).toBe('/etc/passwd');
    const l = await copy(app, ['x.txt'], '/app/', { lower });
    expect(readFileSync(join(l, 'opt/app/x.txt'), 'utf8')).toBe('x');
    const l2 = await copy(app, ['x.txt'], '/esc/', { lower });
    expect(existsSync(join(l2, 'etc/x.txt'))).toBe(true);
  });

  test('a symlink already in destDir cannot redirect writes outside it', async () => {
    const outside = tmp.make();
    const layer = tmp.make();
    symlinkSync(outside, join(layer, 'app'));
    symlinkSync(join(outside, 'victim'), join(layer, 'x.txt'));
    writeFileSync(join(outside, 'victim'), 'keep');
    await copy(app, ['src'], '/app', {}, layer);
    await copy(app, ['x.txt'], '/', {}, layer);
    expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('keep');
    expect(execFileSync('ls', ['-A', outside], { encoding: 'utf8' }).trim()).toBe('victim');
    expect(readFileSync(join(layer, 'x.txt'), 'utf8')).toBe('x');
  });

  test('a directory cannot land on an image file, nor a file on an image directory', async () => {
    const rootfs = makeTree(tmp.make(), { 'etc/conf': 'file', 'data/x.txt': { dir: true } });
    const lower = lowerFromRoot(rootfs);
    expect((await copyError(copy(app, ['src'], '/etc/conf', { lower }))).message).toContain('non-directory');
    expect((await copyError(copy(app, ['x.txt'], '/data/', { lower }))).message).toContain('cannot replace directory');
  });
});

describe.runIf(isRoot)('lowerFromDirs', () => {
  test('merges layers with whiteouts and opaque directories', async () => {
    const bottom = makeTree(tmp.make(), { 'a/old': '1', 'b/keep': '2', 'gone': '3', 'c/hidden': '4' });
    const top = makeTree(tmp.make(), { 'a/new': '5', 'c': { dir: true } });
    execFileSync('mknod', [join(top, 'gone'), 'c', '0', '0']);
    setAttributeSync(join(top, 'c'), 'trusted.overlay.opaque', 'y');
    const lower = lowerFromDirs([top, bottom]);
    expect((await lower.lstat('/a/old'))?.type).toBe('file');
    expect((await lower.lstat('/a/new'))?.type).toBe('file');
    expect(await lower.lstat('/gone')).toBeNull();
    expect(await lower.lstat('/c/hidden')).toBeNull();
    expect((await lower.lstat('/c'))?.type).toBe('dir');
    mkdirSync(join(top, 'b'));
    chmodSync(join(top, 'b'), 0o700);
    expect((await lower.lstat('/b'))?.mode).toBe(0o700);
    expect((await lower.lstat('/b/keep'))?.type).toBe('file');
  });
});
