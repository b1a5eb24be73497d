import { afterEach, describe, expect, test, vi } from 'vitest';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { BuildContext } from '../../../src/context/BuildContext.ts';
import { TsbuildError } from '../../../src/core/errors.ts';
import type { Selection } from '../../../src/context/types.ts';
import { makeTree, TempDirs, type Node } from './tree.ts';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

async function ctxOf(spec: Record<string, Node>): Promise<BuildContext> {
  return BuildContext.open(makeTree(tmp.make(), spec));
}

/** summary lists each source as kind:name with its entries' rel paths. */
function summary(sel: Selection): string[] {
  return sel.sources.map((s) => `${s.kind}:${s.name}=${s.entries.map((e) => e.rel).join(',')}`);
}

async function missingError(p: Promise<unknown>): Promise<TsbuildError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(TsbuildError);
  expect((e as TsbuildError).code).toBe('COPY_SOURCE_MISSING');
  return e as TsbuildError;
}

describe('BuildContext.select', () => {
  test('a directory stands for its contents, a file for itself', async () => {
    const ctx = await ctxOf({ 'src/a.js': 'a', 'src/lib/b.js': 'b', 'x.txt': 'x' });
    const sel = await ctx.select(['src/', 'x.txt']);
    expect(summary(sel)).toEqual(['dir:src=.,a.js,lib,lib/b.js', 'file:x.txt=.']);
    expect(sel.multiple).toBe(true);
  });

  test('single source is not multiple', async () => {
    const ctx = await ctxOf({ 'x.txt': 'x' });
    expect((await ctx.select(['x.txt'])).multiple).toBe(false);
  });

  test('wildcards match per component, sorted', async () => {
    const ctx = await ctxOf({ 'b.txt': '', 'a.txt': '', 'c.md': '', 'd/e.txt': '', 'd/f/g.txt': '' });
    expect(summary(await ctx.select(['*.txt']))).toEqual(['file:a.txt=.', 'file:b.txt=.']);
    expect(summary(await ctx.select(['*/*.txt']))).toEqual(['file:e.txt=.']);
    expect(summary(await ctx.select(['?.md']))).toEqual(['file:c.md=.']);
    expect(summary(await ctx.select(['[ab].txt']))).toEqual(['file:a.txt=.', 'file:b.txt=.']);
  });

  test('one wildcard match is not multiple; several are', async () => {
    const ctx = await ctxOf({ 'a.txt': '', 'b.txt': '' });
    expect((await ctx.select(['a*'])).multiple).toBe(false);
    expect((await ctx.select(['*.txt'])).multiple).toBe(true);
  });

  test('escaped brackets name a literal file', async () => {
    const ctx = await ctxOf({ 'arr[0].txt': 'x' });
    expect(summary(await ctx.select(['arr[[]0].txt']))).toEqual(['file:arr[0].txt=.']);
  });

  test('a missing literal path fails naming it', async () => {
    const ctx = await ctxOf({ 'a.txt': '' });
    const e = await missingError(ctx.select(['nope/x.txt']));
    expect(e.message).toContain('"/nope/x.txt" not found');
  });

  test('a wildcard matching nothing is allowed next to other sources', async () => {
    const ctx = await ctxOf({ 'a.txt': '' });
    expect(summary(await ctx.select(['a.txt', 'nomatch*']))).toEqual(['file:a.txt=.']);
  });

  test('nothing selected at all fails', async () => {
    const ctx = await ctxOf({ 'a.txt': '' });
    const e = await missingError(ctx.select(['nomatch*']));
    expect(e.message).toContain('no source files were specified');
    expect((await ctx.select(['nomatch*'], { allowEmpty: true })).sources).toEqual([]);
  });

  test('.. and leading / are clamped to the context root (BuildKit)', async () => {
    const ctx = await ctxOf({ 'x.txt': 'x', 'sub/y': 'y' });
    expect(summary(await ctx.select(['../x.txt']))).toEqual(['file:x.txt=.']);
    expect(summary(await ctx.select(['/sub/../../x.txt']))).toEqual(['file:x.txt=.']);
    const e = await missingError(ctx.select(['../outside.txt']));
    expect(e.hint).toContain('..');
  });

  test('. and / select the whole context', async () => {
    const ctx = await ctxOf({ 'a': '1', 'd/b': '2' });
    expect(summary(await ctx.select(['.']))).toEqual(['dir:.=.,a,d,d/b']);
    expect(summary(await ctx.select(['/']))).toEqual(['dir:.=.,a,d,d/b']);
  });

  test('.dockerignore hides files from select, with a hint', async () => {
    const ctx = await ctxOf({ '.dockerignore': 'secret\n*.log\nbuild\n!build/keep', 'secret': 's', 'a.log': '', 'ok': '', 'build/x': '', 'build/keep': '' });
    const e = await missingError(ctx.select(['secret']));
    expect(e.hint).toContain('.dockerignore');
    expect(summary(await ctx.select(['.']))).toEqual(['dir:.=.,.dockerignore,build,build/keep,ok']);
    expect(summary(await ctx.select(['build']))).toEqual(['dir:build=.,keep']);
    expect(summary(await ctx.select(['*']))).toEqual(['file:.dockerignore=.', 'dir:build=.,keep', 'file:ok=.']);
  });

  test('.dockerignore can exclude itself and the Buildfile from COPY . .', async () => {
    const ctx = await ctxOf({ '.dockerignore': '.dockerignore\nBuildfile', 'Buildfile': 'FROM x', 'app': '' });
    expect(summary(await ctx.select(['.']))).toEqual(['dir:.=.,app']);
  });

  test('an excluded dir with no re-included child does not exist', async () => {
    const ctx = await ctxOf({ '.dockerignore': 'd\n!d/keep', 'd/x': '' });
    await missingError(ctx.select(['d']));
  });

  test('symlinks inside a copied dir are kept as links, not followed', async () => {
    const ctx = await ctxOf({ 'd/real': 'r', 'd/link': { symlink: 'real' }, 'd/out': { symlink: '/etc/passwd' } });
    const sel = await ctx.select(['d']);
    const byRel = Object.fromEntries(sel.sources[0]!.entries.map((e) => [e.rel, e]));
    expect(byRel['link']!.type).toBe('symlink');
    expect(byRel['link']!.linkTarget).toBe('real');
    expect(byRel['out']!.linkTarget).toBe('/etc/passwd');
  });

  test('a named symlink source is followed inside the context', async () => {
    const ctx = await ctxOf({ 'real/f': 'x', 'ln': { symlink: 'real' }, 'fl': { symlink: 'real/f' } });
    expect(summary(await ctx.select(['ln']))).toEqual(['dir:ln=.,f']);
    const sel = await ctx.select(['fl']);
    expect(sel.sources[0]!.kind).toBe('file');
    expect(sel.sources[0]!.entries[0]!.ctxPath).toBe('real/f');
  });

  test('a symlink pointing outside the context is resolved inside it, never outside', async () => {
    const outside = makeTree(tmp.make(), { 'secret.txt': 'top secret' });
    const ctx = await ctxOf({
      'abs': { symlink: join(outside, 'secret.txt') },
      'rel': { symlink: '../../../../../../../../' + join(outside, 'secret.txt') },
      'etc': { symlink: '/etc' },
    });
    await missingError(ctx.select(['abs']));
    await missingError(ctx.select(['rel']));
    await missingError(ctx.select(['etc/passwd']));
    // Planting the same path inside the context makes the link resolve there.
    makeTree(ctx.dir, { [join(outside, 'secret.txt').slice(1)]: 'inside' });
    const sel = await ctx.select(['abs']);
    expect(sel.sources[0]!.entries[0]!.abs.startsWith(ctx.dir + '/')).toBe(true);
  });

  test('--exclude applies below each source, with ** and !', async () => {
    const ctx = await ctxOf({ 'd/a.txt': '', 'd/b.md': '', 'd/s/c.txt': '', 'd/s/keep.txt': '', 'top.txt': '' });
    const sel = await ctx.select(['d', 'top.txt'], { exclude: ['**/*.txt', '!s/keep.txt'] });
    expect(summary(sel)).toEqual(['dir:d=.,b.md,s,s/keep.txt', 'file:top.txt=.']);
  });

  test('--parents keeps the path, up to a /./ pivot', async () => {
    const ctx = await ctxOf({ 'x/a.txt': '1', 'y/a.txt': '2', 'x/y/b.txt': '3', 'src/q/r.txt': '', 'src/s.md': '' });
    expect(summary(await ctx.select(['./x/a.txt', './y/a.txt'], { parents: true })))
      .toEqual(['dir:.=.,x,x/a.txt', 'dir:.=.,y,y/a.txt']);
    expect(summary(await ctx.select(['./x/./y/*.txt'], { parents: true }))).toEqual(['dir:.=.,y,y/b.txt']);
    expect(summary(await ctx.select(['src/**/*.txt'], { parents: true }))).toEqual(['dir:.=.,src,src/q,src/q/r.txt']);
    await missingError(ctx.select(['x/nope.txt'], { parents: true }));
  });

  test('walk honours .dockerignore', async () => {
    const ctx = await ctxOf({ '.dockerignore': 'node_modules\n', 'node_modules/x': '', 'a': '' });
    expect((await ctx.walk()).map((e) => e.rel)).toEqual(['.', '.dockerignore', 'a']);
  });

  test('what .dockerignore or --exclude skips is never stat-ed; re-included paths still are', async () => {
    const ctx = await ctxOf({
      '.dockerignore': 'node_modules\n*.log\nkeep/*\n!keep/yes\n',
      'node_modules/p/index.js': '', 'a.log': '', 'a': '', 'keep/yes': '', 'keep/no': '', 'src/x.tmp': '', 'src/y': '',
    });
    const seen: string[] = [];
    const real = fs.lstatSync;
    const spy = vi.spyOn(fs, 'lstatSync').mockImplementation(((p: string, o?: object) => { seen.push(p.slice(ctx.dir.length + 1)); return real(p, o as never); }) as typeof fs.lstatSync);
    syncBuiltinESMExports();
    try {
      expect((await ctx.walk()).map((e) => e.rel)).toEqual(['.', '.dockerignore', 'a', 'keep', 'keep/yes', 'src', 'src/x.tmp', 'src/y']);
      expect(seen.filter((p) => /node_modules|\.log|keep\/no/.test(p))).toEqual([]);
      expect(seen).toContain('keep/yes');
      seen.length = 0;
      expect(summary(await ctx.select(['src'], { exclude: ['*.tmp'] }))).toEqual(['dir:src=.,y']);
      expect(seen).not.toContain('src/x.tmp');
      expect(seen).toContain('src/y');
    } finally {
      spy.mockRestore();
      syncBuiltinESMExports();
    }
  });

  test('sockets and fifos are skipped', async () => {
    const ctx = await ctxOf({ 'a': '' });
    execFileSync('mkfifo', [join(ctx.dir, 'b')]);
    expect((await ctx.walk()).map((e) => e.rel)).toEqual(['.', 'a']);
  });
});
