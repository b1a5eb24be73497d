import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync, utimesSync, writeFileSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { mountsUnder, ok, tsbuild, type TempRoot } from '../../helpers/cli.ts';
import { busyboxSuite, imageOf, jsonEvents, unpack, writeTree } from '../../helpers/image.ts';

const suite = busyboxSuite({ beforeAll, afterAll });
const ctxDir = suite.ctx;
let t: TempRoot;
beforeAll(() => { t = suite.t; });


async function build(ctx: string, tag: string, extra: string[] = []) {
  const r = await ok(['--root', t.root, 'build', '--progress=json', '-t', tag, ...extra, ctx]);
  const events = jsonEvents(r.stderr);
  return {
    id: r.stdout.trim(),
    cached: events.filter((e) => e.type === 'step.cached').map((e) => e.step.text),
    ran: events.filter((e) => e.type === 'step.done' && e.ms > 0 || e.type === 'step.start').map((e) => e.step.text),
    events,
  };
}

describe('build', () => {
  test('builds an image that OCI tools read, with its config and history', async () => {
    const ctx = ctxDir({
      Buildfile: 'FROM busybox\nENV A=1\nWORKDIR /app\nCOPY hello.txt ./\nRUN echo "$A-$(cat hello.txt)" > out.txt\nCMD ["cat", "/app/out.txt"]\n',
      'hello.txt': 'hi',
    });
    const r = await build(ctx, 'basic:1');
    expect(r.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const { config, manifest } = imageOf(t.root, 'basic:1');
    expect(manifest.config.digest).toBe(r.id);
    expect(config.config.Env).toContain('A=1');
    expect(config.config.Cmd).toEqual(['cat', '/app/out.txt']);
    expect(config.config.WorkingDir).toBe('/app');
    expect(config.history.length).toBe(config.rootfs.diff_ids.length + config.history.filter((h: any) => h.empty_layer).length);
    execFileSync('skopeo', ['inspect', `oci:${join(t.root, 'oci')}:basic:1`], { stdio: 'pipe' });
    const rootfs = unpack(t.root, 'basic:1', join(t.dir, 'unpack-basic'));
    expect(readFileSync(join(rootfs, 'app/out.txt'), 'utf8')).toBe('1-hi\n');
    expect(readFileSync(join(rootfs, 'app/hello.txt'), 'utf8')).toBe('hi');
  });

  test('a COPY layer is streamed to the store without a snapshot; a later RUN extracts it from the blob', async () => {
    const ctx = ctxDir({ Buildfile: 'FROM busybox\nCOPY tail.txt /t/tail.txt\n', 'tail.txt': 'only copied' });
    await build(ctx, 'copytail:1');
    const diffID = (imageOf(t.root, 'copytail:1').config.rootfs.diff_ids as string[]).at(-1)!;
    const snap = join(t.root, 'snapshots', diffID.slice(7, 23));
    expect(existsSync(snap)).toBe(false);
    writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nCOPY tail.txt /t/tail.txt\nRUN cat /t/tail.txt > /t/read.txt\n');
    const r = await build(ctx, 'copytail:2');
    expect(r.cached).toEqual(['COPY tail.txt /t/tail.txt']);
    expect(readFileSync(join(snap, 'fs/t/tail.txt'), 'utf8')).toBe('only copied');
    const rootfs = unpack(t.root, 'copytail:2', join(t.dir, 'unpack-copytail'));
    expect(readFileSync(join(rootfs, 't/read.txt'), 'utf8')).toBe('only copied');
  });

  test('a run of COPY steps extracts none of its layers, and reads the image below from the trees as from extracted layers', async () => {
    const ctx = ctxDir({ Buildfile: 'FROM busybox\nCOPY adir /a\nCOPY b.txt /a/\n', 'adir/x': 'x', 'b.txt': 'b' });
    utimesSync(join(ctx, 'adir'), 1_600_000_000, 1_600_000_000);
    await build(ctx, 'copyrun:1');
    const viaTrees = imageOf(t.root, 'copyrun:1').config.rootfs.diff_ids as string[];
    for (const d of viaTrees.slice(-2)) expect(existsSync(join(t.root, 'snapshots', d.slice(7, 23)))).toBe(false);
    // Extract the first COPY's layer (a RUN mounts it), then make the second COPY again on the extracted dir.
    writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nCOPY adir /a\nRUN true\n');
    await build(ctx, 'copyrun:2');
    expect(existsSync(join(t.root, 'snapshots', viaTrees.at(-2)!.slice(7, 23)))).toBe(true);
    writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nCOPY adir /a\nCOPY b.txt /a/\n');
    await build(ctx, 'copyrun:3', ['--no-cache']);
    expect(imageOf(t.root, 'copyrun:3').config.rootfs.diff_ids).toEqual(viaTrees);
    const rootfs = unpack(t.root, 'copyrun:3', join(t.dir, 'unpack-copyrun'));
    // /a keeps the time the first COPY gave it (its source dir's), in the second COPY's layer too.
    expect([readFileSync(join(rootfs, 'a/b.txt'), 'utf8'), statSync(join(rootfs, 'a')).mtimeMs]).toEqual(['b', 1_600_000_000_000]);
  });

  test('a rebuild hits the cache for every step and gives the same image id; an edit re-runs only from its COPY', async () => {
    const ctx = ctxDir({
      Buildfile: 'FROM busybox\nRUN echo base > /base.txt\nCOPY deps.txt /deps.txt\nRUN cat /deps.txt > /deps.out\nCOPY src /src\nRUN ls /src > /listing\n',
      'deps.txt': 'd1',
      'src/a.txt': 'a',
    });
    const first = await build(ctx, 'cache:1');
    const second = await build(ctx, 'cache:2');
    expect(second.id).toBe(first.id);
    expect(second.cached).toHaveLength(5);
    writeFileSync(join(ctx, 'src/a.txt'), 'a2');
    const third = await build(ctx, 'cache:3');
    expect(third.cached).toEqual(['RUN echo base > /base.txt', 'COPY deps.txt /deps.txt', 'RUN cat /deps.txt > /deps.out']);
    expect(third.id).not.toBe(first.id);
    const nocache = await build(ctx, 'cache:4', ['--no-cache']);
    expect(nocache.cached).toHaveLength(0);
  });

  test('whiteouts and opaque dirs round-trip through layers', async () => {
    const ctx = ctxDir({
      Buildfile: [
        'FROM busybox',
        'RUN mkdir -p /d/sub && echo 1 > /d/a && echo 2 > /d/sub/b && echo gone > /gone.txt',
        'RUN rm /gone.txt && rm -rf /d && mkdir /d && echo new > /d/c',
        '',
      ].join('\n'),
    });
    await build(ctx, 'wh:1');
    const rootfs = unpack(t.root, 'wh:1', join(t.dir, 'unpack-wh'));
    expect(existsSync(join(rootfs, 'gone.txt'))).toBe(false);
    expect(readdirSync(join(rootfs, 'd'))).toEqual(['c']);
  });

  test('symlinks, hardlinks, modes, setuid and ownership survive', async () => {
    const ctx = ctxDir({
      Buildfile: [
        'FROM busybox',
        'RUN echo x > /f && ln -s /f /sym && ln /f /hard && chmod 4755 /f && mkdir /o && chown 1000:50 /o && chmod 0750 /o',
        '',
      ].join('\n'),
    });
    await build(ctx, 'attrs:1');
    const rootfs = unpack(t.root, 'attrs:1', join(t.dir, 'unpack-attrs'));
    expect(readlinkSync(join(rootfs, 'sym'))).toBe('/f');
    expect(statSync(join(rootfs, 'f')).mode & 0o7777).toBe(0o4755);
    expect(statSync(join(rootfs, 'hard')).ino).toBe(statSync(join(rootfs, 'f')).ino);
    const o = lstatSync(join(rootfs, 'o'));
    expect([o.uid, o.gid, o.mode & 0o7777]).toEqual([1000, 50, 0o750]);
  });

  test('a failing RUN names its line and exit code, commits nothing and leaves no mount or temp dir', async () => {
    // The passing prefix is built first, so whatever the failing build adds is the failing step's.
    await ok(['--root', t.root, 'build', '--progress=quiet', ctxDir({ Buildfile: 'FROM busybox\nRUN echo ok\n' })]);
    const blobs = () => readdirSync(join(t.root, 'oci/blobs/sha256')).sort();
    const keys = () => readdirSync(join(t.root, 'cache/keys')).sort();
    const [blobsBefore, keysBefore] = [blobs(), keys()];
    const ctx = ctxDir({ Buildfile: 'FROM busybox\nRUN echo ok\nRUN echo data > /f && exit 7\n' });
    const r = await tsbuild(['--root', t.root, 'build', '--progress=plain', ctx]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Buildfile:3:1: .*exit code: 7/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(blobs()).toEqual(blobsBefore);
    expect(keys()).toEqual(keysBefore);
    expect(mountsUnder(t.root)).toEqual([]);
    expect(readdirSync(join(t.root, 'tmp')).filter((n) => n !== 'locks' && n !== 'live')).toEqual([]);
  });

  test('FROM scratch with COPY', async () => {
    const ctx = ctxDir({ Buildfile: 'FROM scratch\nCOPY a.txt /a.txt\n', 'a.txt': 'A' });
    await build(ctx, 'scratch:1');
    const rootfs = unpack(t.root, 'scratch:1', join(t.dir, 'unpack-scratch'));
    expect(readFileSync(join(rootfs, 'a.txt'), 'utf8')).toBe('A');
  });

  test('.dockerignore excludes files from COPY', async () => {
    const ctx = ctxDir({ Buildfile: 'FROM busybox\nCOPY . /c\n', '.dockerignore': '*.log\n!keep.log\n', 'a.log': 'x', 'keep.log': 'k', 'b.txt': 'b' });
    await build(ctx, 'ignore:1');
    const rootfs = unpack(t.root, 'ignore:1', join(t.dir, 'unpack-ignore'));
    expect(readdirSync(join(rootfs, 'c')).sort()).toEqual(['.dockerignore', 'Buildfile', 'b.txt', 'keep.log']);
  });

  test('COPY ../x is clamped to the context: missing there it fails, naming the source', async () => {
    writeFileSync(join(t.dir, 'secret.txt'), 'SECRET');
    const ctx = ctxDir({ Buildfile: 'FROM busybox\nCOPY ../secret.txt /s\n' });
    const r = await tsbuild(['--root', t.root, 'build', '-t', 'escape:dotdot', ctx]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^error: \S*Buildfile:2:1: COPY failed: "\/secret\.txt" not found in build context$/m);
    expect(r.stderr).toContain("`..` cannot leave it");
    expect(r.stderr).not.toContain('SECRET');
  });

  test('COPY ../x with x in the context copies that file', async () => {
    writeFileSync(join(t.dir, 'secret.txt'), 'SECRET');
    const ctx = ctxDir({ Buildfile: 'FROM busybox\nCOPY ../secret.txt /s\n', 'secret.txt': 'INSIDE' });
    await build(ctx, 'escape:clamped');
    const rootfs = unpack(t.root, 'escape:clamped', join(t.dir, 'unpack-clamped'));
    expect(readFileSync(join(rootfs, 's'), 'utf8')).toBe('INSIDE');
  });

  test('a context symlink pointing outside resolves inside the context, as in Docker; links in a copied dir stay links', async () => {
    const outside = join(t.dir, 'outside-secret.txt');
    writeFileSync(outside, 'SECRET');
    const ctx = ctxDir({ Buildfile: 'FROM busybox\nCOPY abs /abs\nCOPY rel /rel\nCOPY d /d\n', 'd/real': 'r' });
    symlinkSync(outside, join(ctx, 'abs'));
    symlinkSync('../../../../../../../..' + outside, join(ctx, 'rel'));
    symlinkSync(outside, join(ctx, 'd/out'));
    // The same path planted inside the context is what the links name there.
    writeTree(join(ctx, outside.slice(1), '..'), { [basename(outside)]: 'INSIDE' });
    await build(ctx, 'escape:links');
    const rootfs = unpack(t.root, 'escape:links', join(t.dir, 'unpack-links'));
    expect(readFileSync(join(rootfs, 'abs'), 'utf8')).toBe('INSIDE');
    expect(readFileSync(join(rootfs, 'rel'), 'utf8')).toBe('INSIDE');
    expect(lstatSync(join(rootfs, 'd/out')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(rootfs, 'd/out'))).toBe(outside);
  });

  test('build args reach RUN and are reported in history', async () => {
    const ctx = ctxDir({ Buildfile: 'FROM busybox\nARG V=default\nRUN echo "$V" > /v\n' });
    await build(ctx, 'args:1', ['--build-arg', 'V=given']);
    const rootfs = unpack(t.root, 'args:1', join(t.dir, 'unpack-args'));
    expect(readFileSync(join(rootfs, 'v'), 'utf8')).toBe('given\n');
    const { config } = imageOf(t.root, 'args:1');
    expect(config.history.at(-1).created_by).toContain('|1 V=given');
  });
});
