import { afterEach, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildContext } from '../../../src/context/BuildContext.ts';
import { hashFile, type HashFileFn } from '../../../src/context/hashFile.ts';
import { parseChmod } from '../../../src/context/chmod.ts';
import { RACY_MS, StatCache } from '../../../src/context/StatCache.ts';
import { isDigest } from '../../../src/core/digest.ts';
import { selectionFingerprint } from '../../../src/context/sourcesDigest.ts';
import { makeTree, TempDirs, type Node } from './tree.ts';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function digestOf(spec: Record<string, Node>, sources: string[], opts = {}): Promise<string> {
  const ctx = await BuildContext.open(makeTree(tmp.make(), spec));
  return ctx.digest(await ctx.select(sources), opts);
}

const app: Record<string, Node> = { 'src/a.js': 'a', 'src/lib/b.js': 'b', 'src/ln': { symlink: 'a.js' } };

describe('sourcesDigest', () => {
  test('is a digest and stable across directories and mtimes', async () => {
    const d1 = await digestOf(app, ['src']);
    const d2 = await digestOf({ ...app, 'src/a.js': { file: 'a', mtime: 1_000_000 }, 'other': 'x' }, ['src']);
    expect(isDigest(d1)).toBe(true);
    expect(d2).toBe(d1);
  });

  test('content, names, link targets and file types change it', async () => {
    const base = await digestOf(app, ['src']);
    expect(await digestOf({ ...app, 'src/a.js': 'A' }, ['src'])).not.toBe(base);
    expect(await digestOf({ ...app, 'src/c.js': '' }, ['src'])).not.toBe(base);
    expect(await digestOf({ ...app, 'src/ln': { symlink: 'lib' } }, ['src'])).not.toBe(base);
    expect(await digestOf({ ...app, 'src/ln': 'a.js' }, ['src'])).not.toBe(base);
  });

  test('a mode change changes it; --chmod hides source modes', async () => {
    const base = await digestOf(app, ['src']);
    const exec = { ...app, 'src/a.js': { file: 'a', mode: 0o755 } };
    expect(await digestOf(exec, ['src'])).not.toBe(base);
    expect(await digestOf(exec, ['src'], { chmod: '644' })).toBe(await digestOf(app, ['src'], { chmod: '644' }));
    expect(await digestOf(app, ['src'], { chmod: '600' })).not.toBe(await digestOf(app, ['src'], { chmod: '644' }));
  });

  test('--chown changes it', async () => {
    const root = await digestOf(app, ['src']);
    expect(await digestOf(app, ['src'], { chown: { uid: 0, gid: 0 } })).toBe(root);
    expect(await digestOf(app, ['src'], { chown: { uid: 1000, gid: 1000 } })).not.toBe(root);
    expect(await digestOf(app, ['src'], { chown: { uid: 1000, gid: 1 } })).not.toBe(await digestOf(app, ['src'], { chown: { uid: 1000, gid: 1000 } }));
  });

  test('source order and file-vs-dir sources matter', async () => {
    const spec = { 'a': '1', 'b': '2' };
    expect(await digestOf(spec, ['a', 'b'])).not.toBe(await digestOf(spec, ['b', 'a']));
  });

  test('hard links within a source are distinguished from copies', async () => {
    const copies = await digestOf({ 'd/a': 'x', 'd/b': 'x' }, ['d']);
    const linked = await digestOf({ 'd/a': 'x', 'd/b': { hardlink: 'd/a' } }, ['d']);
    expect(linked).not.toBe(copies);
  });
});

describe('stat cache', () => {
  function counting(): { fn: HashFileFn; reads: string[] } {
    const reads: string[] = [];
    return { reads, fn: (p, size) => { reads.push(p); return hashFile(p, size); } };
  }

  test('a warm rebuild reads no unchanged file, and the cache file is what proves it', async () => {
    const dir = makeTree(tmp.make(), { 'a': 'alpha', 'b/c': 'gamma', 'same': 'x' });
    const cachePath = join(tmp.make(), 'cache', 'statcache-test.json');
    await sleep(RACY_MS + 20);
    const c1 = counting();
    const ctx1 = await BuildContext.open(dir, { statCachePath: cachePath, hashFile: c1.fn });
    const d1 = await ctx1.digest(await ctx1.select(['.']));
    await ctx1.saveStatCache();
    expect(c1.reads).toHaveLength(3);
    expect(existsSync(cachePath)).toBe(true);

    const c2 = counting();
    const ctx2 = await BuildContext.open(dir, { statCachePath: cachePath, hashFile: c2.fn });
    expect(await ctx2.digest(await ctx2.select(['.']))).toBe(d1);
    expect(c2.reads).toEqual([]);

    // Forge the cached hash of `same`: a warm run trusts the stat match and never rereads it.
    const forged = await StatCache.load(cachePath);
    expect(forged.get('same', lstatSync(join(dir, 'same')))).toBe(createHash('sha256').update('x').digest('hex'));
    forged.set('same', lstatSync(join(dir, 'same')), '0'.repeat(64), Date.now());
    await forged.save();
    const c3 = counting();
    const ctx3 = await BuildContext.open(dir, { statCachePath: cachePath, hashFile: c3.fn });
    expect(await ctx3.digest(await ctx3.select(['.']))).not.toBe(d1);
    expect(c3.reads).toEqual([]);
  });

  test('a changed file is reread; metadata-only changes reread but keep the digest', async () => {
    const dir = makeTree(tmp.make(), { 'a': 'alpha', 'b': 'beta' });
    const cachePath = join(tmp.make(), 'statcache.json');
    await sleep(RACY_MS + 20);
    const ctx1 = await BuildContext.open(dir, { statCachePath: cachePath });
    const d1 = await ctx1.digest(await ctx1.select(['.']));
    await ctx1.saveStatCache();

    utimesSync(join(dir, 'b'), 5, 5);
    writeFileSync(join(dir, 'a'), 'ALPHA');
    await sleep(RACY_MS + 20);
    const c = counting();
    const ctx2 = await BuildContext.open(dir, { statCachePath: cachePath, hashFile: c.fn });
    const d2 = await ctx2.digest(await ctx2.select(['.']));
    expect(c.reads.map((p) => p.slice(dir.length + 1)).sort()).toEqual(['a', 'b']);
    expect(d2).not.toBe(d1);
    writeFileSync(join(dir, 'a'), 'alpha');
    const ctx3 = await BuildContext.open(dir, { statCachePath: cachePath });
    expect(await ctx3.digest(await ctx3.select(['.']))).toBe(d1);
  });

  test('racy files (changed just before hashing) are not remembered', async () => {
    const dir = makeTree(tmp.make(), { 'a': 'alpha' });
    // An mtime in the future is always "changed just before hashing", however slow the machine.
    const soon = Date.now() / 1000 + 3600;
    utimesSync(join(dir, 'a'), soon, soon);
    const cachePath = join(tmp.make(), 'statcache.json');
    const ctx1 = await BuildContext.open(dir, { statCachePath: cachePath });
    await ctx1.digest(await ctx1.select(['a']));
    await ctx1.saveStatCache();
    const c = counting();
    const ctx2 = await BuildContext.open(dir, { statCachePath: cachePath, hashFile: c.fn });
    await ctx2.digest(await ctx2.select(['a']));
    expect(c.reads).toHaveLength(1);
  });

  test('the cache file round-trips entries loaded and set, and a truncated file is ignored', async () => {
    const path = join(tmp.make(), 'statcache.bin');
    const st = (i: number) => ({ size: i, mtimeMs: 1_700_000_000_123.456 + i, ctimeMs: 1_700_000_001_000.5, ino: 2 ** 40 + i, dev: 2049 });
    const hex = (i: number) => createHash('sha256').update(String(i)).digest('hex');
    const first = await StatCache.load(path);
    for (let i = 0; i < 500; i++) first.set(`dir/ünï ${i}`, st(i), hex(i), Date.now());
    await first.save();
    const second = await StatCache.load(path);
    expect(second.size).toBe(500);
    second.set('dir/ünï 7', st(70), hex(70), Date.now()); // replaces a loaded entry
    second.set('new', st(1), hex(1), Date.now());
    second.forget('dir/ünï 8');
    await second.save();
    const third = await StatCache.load(path);
    expect(third.size).toBe(500);
    expect(third.get('dir/ünï 3', st(3))).toBe(hex(3));
    expect(third.get('dir/ünï 7', st(70))).toBe(hex(70));
    expect(third.get('dir/ünï 7', st(7))).toBeUndefined();
    expect(third.get('dir/ünï 8', st(8))).toBeUndefined();
    expect(third.get('new', st(1))).toBe(hex(1));
    expect(third.get('dir/ünï 9', { ...st(9), ino: 1 })).toBeUndefined(); // any stat field differs: a miss
    truncateSync(path, readFileSync(path).length - 1);
    expect((await StatCache.load(path)).size).toBe(0);
  });

  test('a selection seen before takes its digest from the memo; any stat or flag change computes it again', async () => {
    const dir = makeTree(tmp.make(), { 'a': 'alpha', 'b/c': 'gamma', 'ln': { symlink: 'a' } });
    const cachePath = join(tmp.make(), 'statcache.bin');
    await sleep(RACY_MS + 20);
    const ctx1 = await BuildContext.open(dir, { statCachePath: cachePath });
    const sel1 = await ctx1.select(['.']);
    const d1 = await ctx1.digest(sel1);
    await ctx1.saveStatCache();
    const fp = selectionFingerprint(sel1, {});
    expect((await StatCache.load(cachePath)).memo(fp)).toBe(d1);

    // Forge the memo: a warm run with the same paths and stats believes it (no per-file lookup).
    const forged = await StatCache.load(cachePath);
    const fake = `sha256:${'1'.repeat(64)}`;
    forged.setMemo(fp, fake);
    await forged.save();
    const ctx2 = await BuildContext.open(dir, { statCachePath: cachePath });
    expect(await ctx2.digest(await ctx2.select(['.']))).toBe(fake);
    // Other flags are another selection.
    expect(await ctx2.digest(await ctx2.select(['.']), { chmod: '755' })).not.toBe(fake);
    expect(await ctx2.digest(await ctx2.select(['.']), { chown: { uid: 1, gid: 1 } })).not.toBe(fake);

    // A touched file (same content) changes the fingerprint: the real digest is computed.
    utimesSync(join(dir, 'b/c'), 7, 7);
    const ctx3 = await BuildContext.open(dir, { statCachePath: cachePath });
    const sel3 = await ctx3.select(['.']);
    expect(selectionFingerprint(sel3, {})).not.toBe(fp);
    expect(await ctx3.digest(sel3)).toBe(d1);
  });

  test('a memo is not kept when a file was racy, and a re-hashed file for the same stat drops every memo', async () => {
    const dir = makeTree(tmp.make(), { 'a': 'alpha', 'b': 'beta' });
    const soon = Date.now() / 1000 + 3600;
    utimesSync(join(dir, 'b'), soon, soon);
    const cachePath = join(tmp.make(), 'statcache.bin');
    const ctx1 = await BuildContext.open(dir, { statCachePath: cachePath });
    const sel = await ctx1.select(['.']);
    await ctx1.digest(sel);
    await ctx1.saveStatCache();
    expect((await StatCache.load(cachePath)).memo(selectionFingerprint(sel, {}))).toBeUndefined();

    utimesSync(join(dir, 'b'), 5, 5);
    await sleep(RACY_MS + 20);
    const ctx2 = await BuildContext.open(dir, { statCachePath: cachePath });
    const sel2 = await ctx2.select(['.']);
    const only = await ctx2.select(['a']);
    await ctx2.digest(sel2);
    await ctx2.digest(only);
    await ctx2.saveStatCache();
    const cache = await StatCache.load(cachePath);
    expect(cache.memo(selectionFingerprint(sel2, {}))).toBeDefined();
    expect(cache.memo(selectionFingerprint(only, {}))).toBeDefined();
    // The same hash again changes nothing; another one for the same stat drops both memos.
    const st = lstatSync(join(dir, 'a'));
    expect(cache.set('a', st, createHash('sha256').update('alpha').digest('hex'), Date.now())).toBe(true);
    expect(cache.memo(selectionFingerprint(only, {}))).toBeDefined();
    cache.set('a', st, '0'.repeat(64), Date.now());
    expect(cache.memo(selectionFingerprint(sel2, {}))).toBeUndefined();
    expect(cache.memo(selectionFingerprint(only, {}))).toBeUndefined();
  });

  test('memos survive a save of a cache whose entries were never looked up, and only the newest 64 are kept', async () => {
    const path = join(tmp.make(), 'statcache.bin');
    const st = { size: 1, mtimeMs: 1_700_000_000_000, ctimeMs: 1_700_000_000_000, ino: 5, dev: 9 };
    const first = await StatCache.load(path);
    first.set('x', st, 'ab'.repeat(32), Date.now());
    for (let i = 0; i < 70; i++) first.setMemo(createHash('sha256').update(String(i)).digest('hex'), `sha256:${String(i % 10).repeat(64)}`);
    await first.save();
    const second = await StatCache.load(path);
    second.setMemo('cd'.repeat(32), `sha256:${'e'.repeat(64)}`);
    await second.save(); // its entries were never decoded: copied as they are
    const third = await StatCache.load(path);
    expect(third.get('x', st)).toBe('ab'.repeat(32));
    expect(third.memo('cd'.repeat(32))).toBe(`sha256:${'e'.repeat(64)}`);
    expect(third.memo(createHash('sha256').update('69').digest('hex'))).toBe(`sha256:${'9'.repeat(64)}`);
    expect(third.memo(createHash('sha256').update('6').digest('hex'))).toBeUndefined();
  });

  test('a corrupt cache file is ignored', async () => {
    const dir = makeTree(tmp.make(), { 'a': 'alpha' });
    const cachePath = join(tmp.make(), 'statcache.json');
    writeFileSync(cachePath, '{not json');
    const ctx = await BuildContext.open(dir, { statCachePath: cachePath });
    expect(isDigest(await ctx.digest(await ctx.select(['a'])))).toBe(true);
  });
});

describe('parseChmod', () => {
  test.each([
    ['755', 0o644, false, 0o755],
    ['0644', 0o755, true, 0o644],
    ['4755', 0o644, false, 0o4755],
    ['+x', 0o644, false, 0o755],
    ['u+x', 0o644, false, 0o744],
    ['go-w', 0o666, false, 0o644],
    ['u=rwX,go=rX', 0o600, false, 0o644], // X: no exec bit on a plain file
    ['u=rwX,go=rX', 0o700, false, 0o755], // X: file already executable
    ['u=rwX,go=rX', 0o700, true, 0o755], // X: directories
    ['g=u', 0o640, false, 0o660],
    ['a=r', 0o777, false, 0o444],
    ['u+s', 0o755, false, 0o4755],
    ['o+t', 0o777, true, 0o1777],
  ])('%s on %o (dir %s) → %o', (flag, mode, isDir, want) => {
    expect(parseChmod(flag).apply(mode, isDir)).toBe(want);
  });

  test.each([['8'], ['77777'], ['u+q'], ['x+u'], ['']])('bad %j throws', (flag) => {
    expect(() => parseChmod(flag)).toThrow(/chmod/);
  });
});
