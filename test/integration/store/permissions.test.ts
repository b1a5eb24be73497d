import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, lstatSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeTempRoot, ok, tsbuild, type TempRoot } from '../../helpers/cli.ts';
import { hasBusybox, isRoot, makeBusyboxRootfs } from '../../helpers/rootfs.ts';

// Docker's CVE-2021-41091: a store that other users can traverse lets any of them run a
// setuid-root binary that a build put into a layer. These tests check, as user nobody,
// that nothing under the store root is reachable, and that the store's own files are
// private (dirs 0700, files 0600) wherever they are not image content.

/**
 * asNobody runs argv as uid/gid 65534 with no supplementary groups. setpriv keeps its
 * capabilities until it execs, so it execs a shell (which loses them) and the shell
 * execs argv: every path of argv is resolved by a process with nobody's rights only.
 */
function asNobody(argv: string[]): { code: number; out: string } {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', '/bin/sh', '-c', 'exec "$@"', 'sh', ...argv], { encoding: 'utf8' });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

/** suidTar writes a busybox rootfs tarball holding a setuid-root copy of id(1) at /bin/suid-id. */
function suidTar(work: string): string {
  const dir = mkdtempSync(join(work, 'rootfs-'));
  makeBusyboxRootfs(dir);
  copyFileSync('/usr/bin/id', join(dir, 'bin/suid-id'));
  chmodSync(join(dir, 'bin/suid-id'), 0o4755);
  const tar = join(work, 'suid.tar');
  execFileSync('tar', ['--numeric-owner', '-C', dir, '-cf', tar, '.']);
  return tar;
}

/** expectClosed checks that user nobody can neither list the store nor run the setuid binary in its snapshot. */
function expectClosed(root: string): void {
  const snaps = readdirSync(join(root, 'snapshots'));
  expect(snaps.length).toBeGreaterThan(0);
  const ls = asNobody(['ls', join(root, 'snapshots')]);
  expect(ls.out).toMatch(/Permission denied/);
  expect(ls.code).not.toBe(0);
  for (const s of snaps) {
    const suid = join(root, 'snapshots', s, 'fs/bin/suid-id');
    let present = true;
    try { lstatSync(suid); } catch { present = false; }
    if (!present) continue;
    const run = asNobody([suid]);
    expect(run.out).not.toMatch(/euid=0/);
    expect(run.out).toMatch(/Permission denied/);
  }
  expect(asNobody(['cat', join(root, 'oci/index.json')]).out).toMatch(/Permission denied/);
  expect(asNobody(['ls', join(root, 'oci/blobs/sha256')]).out).toMatch(/Permission denied/);
}

/** loose lists the store's entries that group or others may use, skipping layer content (snapshots/<id>/fs). */
function loose(root: string): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    // A layer's tree, its root included, is image content: its modes are the image's.
    if (/^snapshots\/[^/]+\/fs$/.test(rel)) return;
    const st = lstatSync(abs);
    // Liveness sockets (tmp/live/<id>) keep the umask's bits; tmp/live is 0700 (docs/STORE.md).
    if (st.isSymbolicLink() || (st.isSocket() && /^tmp\/live\/[0-9a-f]{16}$/.test(rel))) return;
    if ((st.mode & 0o077) !== 0) out.push(`${rel || '.'} ${(st.mode & 0o7777).toString(8)}`);
    if (!st.isDirectory()) return;
    for (const n of readdirSync(abs)) walk(join(abs, n), rel ? `${rel}/${n}` : n);
  };
  walk(root, '');
  return out;
}

const mode = (p: string) => (lstatSync(p).mode & 0o7777).toString(8);

describe.runIf(isRoot && hasBusybox())('the store is closed to other users', () => {
  let t: TempRoot;
  let tar: string;
  beforeAll(() => {
    t = makeTempRoot('tsbuild-perms-');
    // mkdtemp makes 0700: open the test's own dir so that only the store's modes protect it.
    chmodSync(t.dir, 0o755);
    tar = suidTar(t.dir);
  });
  afterAll(() => t.cleanup());

  test('a new store: nobody can list it or run a setuid binary from a layer; its own files are private', async () => {
    await ok(['--root', t.root, 'import', tar, 'suid']);
    const ctx = mkdtempSync(join(t.dir, 'ctx-'));
    chmodSync(ctx, 0o755);
    writeFileSync(join(ctx, 'Buildfile'), 'FROM suid\nCOPY a /a\nRUN cat /a > /b && ls -l /bin/suid-id\n');
    writeFileSync(join(ctx, 'a'), 'a\n');
    await ok(['--root', t.root, 'build', '--progress=quiet', '-t', 'app', ctx]);
    expectClosed(t.root);
    expect(mode(t.root)).toBe('700');
    // Still the same after a second open.
    await ok(['--root', t.root, 'images']);
    expect(mode(t.root)).toBe('700');
    expect(loose(t.root)).toEqual([]);
  });

  test("an existing store made with 0711/0755 modes is tightened when it is next opened", async () => {
    const root = join(t.dir, 'old');
    await ok(['--root', root, 'import', tar, 'suid']);
    // What earlier versions left: a traversable root and world-readable directories and files.
    chmodSync(root, 0o711);
    for (const d of ['oci', 'oci/blobs', 'oci/blobs/sha256', 'snapshots', 'cache', 'containers', 'tmp', 'tmp/locks']) chmodSync(join(root, d), 0o755);
    for (const s of readdirSync(join(root, 'snapshots'))) chmodSync(join(root, 'snapshots', s), 0o755);
    for (const f of readdirSync(join(root, 'oci/blobs/sha256'))) chmodSync(join(root, 'oci/blobs/sha256', f), 0o644);
    chmodSync(join(root, 'oci/index.json'), 0o644);
    expect(asNobody(['ls', join(root, 'snapshots')]).code).toBe(0);

    await ok(['--root', root, 'images']);
    expectClosed(root);
    expect(mode(root)).toBe('700');
    for (const d of ['oci', 'snapshots', 'cache', 'containers', 'tmp']) expect(mode(join(root, d))).toBe('700');
    expect(loose(root)).toEqual([]);
  });

  test('a store root that belongs to another user is refused', async () => {
    const root = join(t.dir, 'theirs');
    await ok(['--root', root, 'images']);
    execFileSync('chown', ['65534:65534', root]);
    const r = await tsbuild(['--root', root, 'images']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: store .*theirs: owned by uid 65534, not by uid 0 running tsbuild\n  hint: /);
  });
});
