import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeTempRoot, ok, tsbuild, type TempRoot } from '../../helpers/cli.ts';
import { imageOf, importBusybox, jsonEvents, makeContext } from '../../helpers/image.ts';

// Killed at any moment, recovers by itself: a file an OS crash left empty, cut in half or
// full of garbage does not stop the next build. It is healed (removed and made again,
// extracted again from its blob, or replaced by an earlier copy) with one warning, and the
// build gives the same image as before. SOURCE_DATE_EPOCH makes a step that runs again
// give the same layer and history, so "the same image" means the same image id.
// Each case works on a copy of one store built once (cp -a: snapshots, blobs, records).

let t: TempRoot;
let pristine = '';
let ctx = '';
let id0 = '';
let n = 0;
const SDE = { SOURCE_DATE_EPOCH: '1700000000' };
const BUILDFILE = 'FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt && echo built >> /b.txt\n';

beforeAll(async () => {
  t = makeTempRoot('tsbuild-heal-');
  pristine = join(t.dir, 'pristine');
  await importBusybox(pristine, t.dir);
  ctx = makeContext(t.dir, { Buildfile: BUILDFILE, 'a.txt': 'alpha\n' });
  await new Promise((r) => setTimeout(r, 300)); // let the context's files settle (racy window)
  id0 = (await ok(['--root', pristine, 'build', '-t', 'app', ctx], { env: SDE })).stdout.trim();
  // A second build after the files settled fills the stat cache and tags again (index.json.prev).
  expect((await ok(['--root', pristine, 'build', '-t', 'app', ctx], { env: SDE })).stdout.trim()).toBe(id0);
});
afterAll(() => t?.cleanup());

/** copyStore gives a case its own copy of the built store. */
function copyStore(): string {
  const root = join(t.dir, `case-${n++}`);
  execFileSync('cp', ['-a', pristine, root]);
  return root;
}

/** HARM are the ways a crash leaves a file: emptied, cut in half, overwritten with garbage of its size. */
const HARM: Array<[string, (path: string) => void]> = [
  ['truncated to 0', (p) => truncateSync(p, 0)],
  ['cut in half', (p) => truncateSync(p, Math.floor(readFileSync(p).length / 2))],
  ['garbage', (p) => writeFileSync(p, randomBytes(Math.max(1, readFileSync(p).length)))],
];

/** build runs the build on root and returns its image id, warnings and whether each step was cached. */
async function build(root: string, extra: string[] = []): Promise<{ id: string; warnings: string[]; cached: number; ran: number }> {
  const r = await tsbuild(['--root', root, 'build', '--progress=json', '-t', 'app', ...extra, ctx], { env: SDE });
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr}`);
  const ev = jsonEvents(r.stderr);
  return {
    id: r.stdout.trim(),
    warnings: ev.filter((e) => e.type === 'warning').map((e) => e.message),
    cached: ev.filter((e) => e.type === 'step.cached').length,
    ran: ev.filter((e) => e.type === 'step.start' && !e.step.text.startsWith('FROM')).length,
  };
}

/** fsckClean: after the build healed, fsck finds nothing left. */
async function fsckClean(root: string): Promise<void> {
  const r = await tsbuild(['--root', root, 'fsck']);
  expect({ code: r.code, out: r.stdout }).toEqual({ code: 0, out: expect.stringMatching(/no problems found\n$/) });
}

const files = (dir: string) => readdirSync(dir).filter((f) => /^[0-9a-f]+$/.test(f)).map((f) => join(dir, f));

describe('the next build heals what a crash left, with a warning, and gives the same image', () => {
  test.each(HARM)('cache records %s', async (_n, harm) => {
    const root = copyStore();
    for (const f of files(join(root, 'cache/keys'))) harm(f);
    const b = await build(root);
    expect(b.id).toBe(id0);
    expect(b.ran).toBe(2);
    expect(b.warnings).toHaveLength(2);
    for (const w of b.warnings) expect(w).toMatch(/^damaged cache record sha256:[0-9a-f]{64}: .*: removed; the step runs again$/);
    expect(await build(root)).toMatchObject({ id: id0, warnings: [], cached: 2, ran: 0 });
    await fsckClean(root);
  });

  test.each(HARM)('snapshot diffid files %s', async (_n, harm) => {
    const root = copyStore();
    const snaps = readdirSync(join(root, 'snapshots'));
    expect(snaps.length).toBeGreaterThanOrEqual(2);
    for (const s of snaps) harm(join(root, 'snapshots', s, 'diffid'));
    // --no-cache: the RUN runs again and needs the base's and the COPY's snapshots.
    const b = await build(root, ['--no-cache']);
    expect(b.id).toBe(id0);
    expect(b.warnings.length).toBeGreaterThanOrEqual(2);
    for (const w of b.warnings) expect(w).toMatch(/^damaged snapshot [0-9a-f]{16}: diffid file .*: removed; extracted again from its layer$/);
    expect((await build(root, ['--no-cache'])).warnings).toEqual([]);
    await fsckClean(root);
  });

  test.each(HARM)('the image manifest and config blobs %s', async (_n, harm) => {
    const root = copyStore();
    const img = imageOf(root, 'app');
    for (const d of [img.manifestDigest, img.manifest.config.digest]) harm(join(root, 'oci/blobs/sha256', d.slice(7)));
    const b = await build(root);
    expect(b.id).toBe(id0);
    expect(b.cached).toBe(2);
    expect(b.warnings.sort()).toEqual([img.manifestDigest, img.manifest.config.digest].sort().map((d) => `damaged blob ${d}: content does not match its digest: replaced with a good copy`));
    expect(imageOf(root, 'app').config.rootfs).toEqual(img.config.rootfs);
    await fsckClean(root);
  });

  test.each(HARM.slice(0, 2))('the RUN layer blob %s: the step runs again', async (_n, harm) => {
    const root = copyStore();
    const img = imageOf(root, 'app');
    const run = img.manifest.layers.at(-1).digest as string;
    harm(join(root, 'oci/blobs/sha256', run.slice(7)));
    const b = await build(root);
    expect(b).toMatchObject({ id: id0, cached: 1, ran: 1 });
    expect(b.warnings).toEqual([expect.stringMatching(new RegExp(`^damaged blob ${run}: \\d+ bytes, recorded as \\d+: removed$`))]);
    await fsckClean(root);
  });

  test('a layer blob with garbage of its own size, found when extracted: removed, and the build runs again', async () => {
    const root = copyStore();
    const img = imageOf(root, 'app');
    const copy = img.manifest.layers.at(-2).digest as string;
    HARM[2]![1](join(root, 'oci/blobs/sha256', copy.slice(7)));
    rmSync(join(root, 'snapshots', copy.slice(7, 7 + 16)), { recursive: true });
    // A RUN that needs the COPY's layer extracted: --no-cache, the COPY keeps the blob of its size.
    const b = await build(root, ['--no-cache']);
    expect(b.id).toBe(id0);
    expect(b.warnings).toEqual([
      `damaged blob ${copy}: content does not match its digest: removed`,
      expect.stringMatching(new RegExp(`^layer ${copy} was damaged and has been removed: building again$`)),
    ]);
    await fsckClean(root);
  });

  test.each(HARM)('index.json %s: the copy from before its last change', async (_n, harm) => {
    const root = copyStore();
    harm(join(root, 'oci/index.json'));
    const b = await build(root);
    expect(b).toMatchObject({ id: id0, cached: 2 });
    expect(b.warnings).toEqual([expect.stringMatching(/^damaged oci\/index.json: .*: replaced by the copy from before its last change/)]);
    expect(JSON.parse(readFileSync(join(root, 'oci/index.json'), 'utf8')).manifests.map((m: any) => m.annotations['org.opencontainers.image.ref.name']).sort()).toEqual(['app:latest', 'busybox:latest']);
    await fsckClean(root);
  });

  test.each(HARM)('the stat cache %s: discarded, the context hashed again (no warning: it is a cache of the context)', async (_n, harm) => {
    const root = copyStore();
    const [sc] = readdirSync(join(root, 'cache')).filter((f) => f.startsWith('statcache-'));
    harm(join(root, 'cache', sc!));
    expect(await build(root)).toEqual({ id: id0, warnings: [], cached: 2, ran: 0 });
    // Cut after its memos (checked on their own), the file still served the build from them;
    // its torn entries are discarded when first needed, and fsck removes it.
    const r = await tsbuild(['--root', root, 'fsck']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').filter((l) => !/^checked |^no problems|^1 problem: 1 repaired|^cache\/statcache-[0-9a-f]+\.bin: torn/.test(l))).toEqual([]);
    await fsckClean(root);
  });
});

describe('tsbuild fsck', () => {
  test.each(HARM)('reports and repairs each kind of file %s; --dry-run changes nothing', async (_n, harm) => {
    const root = copyStore();
    const img = imageOf(root, 'app');
    harm(join(root, 'cache/keys', readdirSync(join(root, 'cache/keys'))[0]!));
    harm(join(root, 'snapshots', readdirSync(join(root, 'snapshots'))[0]!, 'diffid'));
    harm(join(root, 'oci/blobs/sha256', img.manifest.layers.at(-1).digest.slice(7)));
    harm(join(root, 'oci/index.json'));
    const [sc] = readdirSync(join(root, 'cache')).filter((f) => f.startsWith('statcache-'));
    harm(join(root, 'cache', sc!));
    writeFileSync(join(root, 'tmp', 'blob-00000000deadbeef-abcdef'), 'left by a dead process');

    const dry = await tsbuild(['--root', root, 'fsck', '--dry-run']);
    expect(dry.code).toBe(1);
    const listing = execFileSync('find', [root, '-newer', join(root, 'oci/oci-layout')]).toString();
    expect(dry.stdout).toMatch(/nothing was changed \(--dry-run\)\n$/);
    expect(execFileSync('find', [root, '-newer', join(root, 'oci/oci-layout')]).toString()).toBe(listing);

    const fix = await tsbuild(['--root', root, 'fsck']);
    const lines = fix.stdout.trim().split('\n');
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/^tmp\/blob-00000000deadbeef-abcdef: left by a process that is gone: removed$/),
      expect.stringMatching(/^oci\/index.json: .*: replaced by the copy from before its last change/),
      `blob ${img.manifest.layers.at(-1).digest}: content does not match its digest: removed; built or fetched again when needed`,
      expect.stringMatching(/^cache record sha256:[0-9a-f]{64}: .*: removed; the step runs again$/),
      expect.stringMatching(/^snapshot [0-9a-f]{16}: diffid file .*: removed; extracted again from its layer when needed$/),
      expect.stringMatching(/^cache\/statcache-[0-9a-f]+\.bin: torn or of an older version: removed; the context is hashed again$/),
      // The tag of the last change (app) is what restoring index.json loses; the build below sets it again.
      expect.stringMatching(/^checked \d+ blobs, 1 images, \d+ cache records, \d+ snapshots$/),
      expect.stringMatching(/^\d+ problems: \d+ repaired, 0 left$/),
    ]));
    expect(fix.code).toBe(0);
    await fsckClean(root);
    expect((await build(root)).id).toBe(id0);
  });

  test("staging files next to cache files: a dead writer's (no listening socket) are removed, a live writer's kept", async () => {
    const root = copyStore();
    const live = '1111111111111111';
    mkdirSync(join(root, 'tmp', 'live'), { recursive: true });
    const server = createServer((c) => c.destroy());
    await new Promise<void>((resolve) => server.listen(join(root, 'tmp', 'live', live), resolve));
    try {
      mkdirSync(join(root, 'cache', 'blobsources'), { recursive: true });
      const dead = join('cache', 'blobsources', `${'ab'.repeat(32)}.json.00000000deadbeef.0123456789ab.tmp`);
      const kept = join('cache', `statcache-0123456789abcdef.bin.${live}.0123456789ab.tmp`);
      // The form older versions wrote (a pid): never judged by it, so left alone.
      const old = join('cache', `statcache-0123456789abcdef.bin.${process.pid}.1700000000000.tmp`);
      for (const f of [dead, kept, old]) writeFileSync(join(root, f), 'x');
      const r = await tsbuild(['--root', root, 'fsck']);
      expect(r.stdout).toContain(`${dead}: left by a process that is gone: removed\n`);
      expect(r.stdout).toMatch(/^1 problem: 1 repaired/m);
      expect([dead, kept, old].map((f) => existsSync(join(root, f)))).toEqual([false, true, true]);
    } finally {
      server.close();
    }
  });

  test('--content compares snapshots with their layers: a sound store has nothing to report, a changed file is found', async () => {
    const root = copyStore();
    const clean = await tsbuild(['--root', root, 'fsck', '--content']);
    expect(clean).toMatchObject({ code: 0, stdout: expect.stringMatching(/snapshots \((\d+) compared with their layer\)\nno problems found\n$/) });
    const img = imageOf(root, 'app');
    const snap = join(root, 'snapshots', img.manifest.layers.at(-1).digest.slice(7, 7 + 16));
    writeFileSync(join(snap, 'fs/b.txt'), 'alpha\nbuilT\n');
    expect((await tsbuild(['--root', root, 'fsck'])).stdout).toMatch(/no problems found/);
    const found = await tsbuild(['--root', root, 'fsck', '--content']);
    expect(found.stdout).toMatch(/^snapshot [0-9a-f]{16}: b.txt: other content: removed; extracted again from its layer when needed$/m);
    await fsckClean(root);
  });

  test('damage that cannot be repaired is reported and fsck exits 1: an image missing a layer, a damaged container record', async () => {
    const root = copyStore();
    const base = imageOf(root, 'busybox');
    rmSync(join(root, 'oci/blobs/sha256', base.manifest.layers[0].digest.slice(7)));
    const id = 'ab'.repeat(32);
    execFileSync('mkdir', ['-p', join(root, 'containers', id)]);
    writeFileSync(join(root, 'containers', id, 'container.json'), '{"id":"ab');
    const r = await tsbuild(['--root', root, 'fsck']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^tag busybox:latest: layer ${base.manifest.layers[0].digest} is missing: left: pull, load or import the image again, or remove it with 'tsbuild rmi'$`, 'm'));
    expect(r.stdout).toMatch(/^tag app:latest: layer sha256:[0-9a-f]{64} is missing: left/m);
    expect(r.stdout).toMatch(/^container abababababab: container.json is not JSON .*: left alone \(its changes are in .*\/containers\/a{0}(ab){32}: remove that directory to drop it\)$/m);
    expect(r.stdout).toMatch(/\n3 problems: 0 repaired, 3 left\n$/);
    expect((await tsbuild(['--root', root, 'ps', '-a'])).code).toBe(0);
  });
});
