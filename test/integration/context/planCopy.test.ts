import { afterEach, describe, expect, test } from 'vitest';
import { chownSync, lstatSync, lutimesSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { BuildContext } from '../../../src/context/BuildContext.ts';
import { copyInto, type CopyIntoOptions } from '../../../src/context/copyInto.ts';
import { lowerFromLayers, lowerFromRoot, type PlannedNode } from '../../../src/context/lower.ts';
import { NeedsDirectory, planCopy } from '../../../src/context/planCopy.ts';
import { writeLayerTar } from '../../../src/snapshot/layerTar.ts';
import { writeTreeTar } from '../../../src/snapshot/treeTar.ts';
import { isRoot } from '../../helpers/rootfs.ts';
import { makeTree, TempDirs, type Node } from '../../unit/context/tree.ts';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

/** Every fixture time is T0 unless the spec says otherwise; "now" (new parent dirs) is NOW in both writers. */
const T0 = 1_600_000_000;
const NOW = 1_700_000_000;

/** aged sets every path under root that has a recent mtime (not set by the spec) to T0, dirs included. */
function aged(root: string, since: number): string {
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      if (st.mtimeMs >= since) lutimesSync(p, T0, T0);
    }
  };
  walk(root);
  if (lstatSync(root).mtimeMs >= since) utimesSync(root, T0, T0);
  return root;
}

async function collect(write: (out: PassThrough) => Promise<unknown>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await write(out);
  out.end();
  return Buffer.concat(chunks);
}

interface Case {
  ctx: Record<string, Node>;
  sources: string[];
  dest: string;
  opts?: CopyIntoOptions;
  lower?: Record<string, Node>;
  /** Owners to give lower paths. */
  lowerOwners?: Record<string, [number, number]>;
  parents?: boolean;
  epoch?: number;
}

/** both writes the case with copyInto + writeLayerTar (the reference) and with planCopy + writeTreeTar. */
async function both(c: Case): Promise<{ dir: Buffer; tree: Buffer }> {
  const since = Date.now() - 1000;
  const ctx = await BuildContext.open(aged(makeTree(tmp.make(), c.ctx), since));
  const opts: CopyIntoOptions = { ...c.opts };
  if (c.lower) {
    const rootfs = makeTree(tmp.make(), c.lower);
    for (const [p, [u, g]] of Object.entries(c.lowerOwners ?? {})) chownSync(join(rootfs, p), u, g);
    opts.lower = lowerFromRoot(aged(rootfs, since));
  }
  const sel = await ctx.select(c.sources, { parents: !!c.parents });
  const layer = tmp.make();
  await copyInto(sel, layer, c.dest, opts);
  // Parents copyInto made without a source time carry the kernel's clock: pin them to NOW.
  const pin = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (!st.isDirectory()) continue;
      pin(p);
      if (st.mtimeMs >= since) utimesSync(p, NOW, NOW);
    }
  };
  pin(layer);
  const epoch = c.epoch === undefined ? {} : { sourceDateEpoch: c.epoch };
  const dir = await collect((out) => writeLayerTar(layer, out, epoch));
  const tree = await collect(async (out) => writeTreeTar(await planCopy(sel, c.dest, { ...opts, nowMs: NOW * 1000 }), out, epoch));
  return { dir, tree };
}

async function errors(c: Case): Promise<[string, string]> {
  const ctx = await BuildContext.open(makeTree(tmp.make(), c.ctx));
  const opts: CopyIntoOptions = { ...c.opts, ...(c.lower ? { lower: lowerFromRoot(makeTree(tmp.make(), c.lower)) } : {}) };
  const sel = await ctx.select(c.sources);
  const a = await copyInto(sel, tmp.make(), c.dest, opts).then(() => 'no error', (e: Error) => e.message);
  const b = await planCopy(sel, c.dest, opts).then(() => 'no error', (e: Error) => e.message);
  return [a, b];
}

const app: Record<string, Node> = {
  'src/a.js': { file: 'a', mode: 0o640, mtime: 1_000_000 },
  'src/lib/b.sh': { file: 'b', mode: 0o4755 },
  'src/ln': { symlink: 'a.js' },
  'src/empty': { dir: true, mode: 0o700 },
  'src/h1': 'linked',
  'src/h2': { hardlink: 'src/h1' },
  [`src/${'long-name-'.repeat(12)}.txt`]: 'long',
  'src/ünïcödé.txt': 'utf8',
  'src/big.bin': { file: 'x'.repeat(3 << 20) },
  'x.txt': 'x',
  'y.txt': 'y',
  'other/x.txt': 'other x',
  'other/lib/c': 'c',
};

const cases: Record<string, Case> = {
  'a directory to a new destination': { ctx: app, sources: ['src'], dest: '/app' },
  'a directory to the root': { ctx: app, sources: ['src'], dest: '/' },
  'the whole context, relative to a workdir': { ctx: app, sources: ['.'], dest: 'w/', opts: { workdir: '/work' } },
  'a file as the destination, and into it': { ctx: app, sources: ['x.txt'], dest: '/a/b/out' },
  'a file into a new directory': { ctx: app, sources: ['x.txt'], dest: '/a/b/' },
  'wildcards and several sources': { ctx: app, sources: ['*.txt', 'other'], dest: '/many' },
  'overlapping sources: the later wins, dirs merge': { ctx: app, sources: ['src', 'other', 'x.txt'], dest: '/d/' },
  'the same hard-linked file from two sources': { ctx: app, sources: ['src', 'src'], dest: '/d/' },
  '--chown and octal --chmod': { ctx: app, sources: ['src', 'x.txt'], dest: '/o/p/', opts: { chown: { uid: 1000, gid: 1001 }, chmod: '0750' } },
  'symbolic --chmod': { ctx: app, sources: ['src'], dest: '/s', opts: { chmod: 'u=rwX,go=rX' } },
  'image parents keep their metadata; image dirs are merged into': {
    ctx: app, sources: ['src'], dest: '/opt/app/',
    lower: { 'opt': { dir: true, mode: 0o711 }, 'opt/app/lib': { dir: true, mode: 0o700 } },
    lowerOwners: { 'opt': [5, 6], 'opt/app/lib': [7, 8] },
  },
  'a file into an image directory': { ctx: app, sources: ['x.txt'], dest: '/etc', lower: { 'etc/passwd': 'root' } },
  'an image symlink in the destination is followed': {
    ctx: app, sources: ['x.txt', 'src'], dest: '/app/', lower: { 'opt/app': { dir: true }, 'app': { symlink: '/opt/app' } },
  },
  '--parents': { ctx: app, sources: ['./src/lib/*', 'other/./lib/c'], dest: '/p/', parents: true },
  'SOURCE_DATE_EPOCH clamps': { ctx: app, sources: ['src'], dest: '/app', epoch: 1_500_000 },
};

describe.runIf(isRoot)('planCopy + writeTreeTar give the layer copyInto + writeLayerTar give', () => {
  test.each(Object.entries(cases))('%s', async (_name, c) => {
    const { dir, tree } = await both(c);
    expect(tree.length).toBe(dir.length);
    expect(tree.equals(dir)).toBe(true);
  });

  test('the same errors: a dir onto an image file, a file onto an image dir, a dir onto a copied file', async () => {
    const lower = { 'etc/conf': 'file', 'data/x.txt': { dir: true } } satisfies Record<string, Node>;
    for (const c of [
      { ctx: app, sources: ['src'], dest: '/etc/conf', lower },
      { ctx: app, sources: ['x.txt'], dest: '/data/', lower },
      { ctx: { 'a/lib': 'a file', 'b/lib/c': 'c' }, sources: ['a', 'b'], dest: '/d/' },
      { ctx: { 'a/lib/c': 'c', 'b/lib': 'a file' }, sources: ['a', 'b'], dest: '/d/' },
    ] satisfies Case[]) {
      const [a, b] = await errors(c);
      expect(a).not.toBe('no error');
      expect(b).toBe(a);
    }
  });

  test('a directory written through a symlink of the same COPY is left to copyInto', async () => {
    const ctx = await BuildContext.open(makeTree(tmp.make(), { 'a/l': { symlink: 'real' }, 'a/real/x': 'x', 'b/l/y': 'y' }));
    const sel = await ctx.select(['a', 'b']);
    await expect(planCopy(sel, '/d/')).rejects.toBeInstanceOf(NeedsDirectory);
  });
});

describe.runIf(isRoot)('lowerFromLayers', () => {
  test('a tree layer above a dir layer: its entries win, a non-directory hides what is below, the rest shows through', async () => {
    const below = makeTree(tmp.make(), { 'etc/passwd': 'root', 'bin/sh': 'sh', 'opt/x': 'x' });
    const meta = { mode: 0o700, uid: 3, gid: 4, mtimeMs: 5000 };
    const tree: PlannedNode = { kind: 'dir', meta, children: new Map<string, PlannedNode>([
      ['etc', { kind: 'dir', meta, children: new Map() }],
      ['bin', { kind: 'symlink', meta: { ...meta, mode: 0o777 }, target: 'usr/bin' }],
    ]) };
    const lower = lowerFromLayers([tree, below]);
    expect(await lower.lstat('/etc')).toEqual({ type: 'dir', mode: 0o700, uid: 3, gid: 4, mtimeMs: 5000 });
    expect((await lower.lstat('/etc/passwd'))?.type).toBe('file');
    expect((await lower.lstat('/opt/x'))?.type).toBe('file');
    expect(await lower.lstat('/bin/sh')).toBeNull();
    expect(await lower.readlink('/bin')).toBe('usr/bin');
    expect(await lower.lstat('/nope')).toBeNull();
  });
});
