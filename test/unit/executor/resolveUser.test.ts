import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { TsbuildError } from '../../../src/core/errors.ts';
import { homeDir, parsePasswd, resolveUser } from '../../../src/executor/resolveUser.ts';

const fixture = fileURLToPath(new URL('./fixtures/rootfs', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'tsbuild-resolveuser-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('resolveUser with fixture passwd/group', () => {
  test.each([
    // "" is root, looked up in passwd by uid 0 (and so gets root's memberships)
    ['', 0, 0, [10]],
    ['root', 0, 0, [10]],
    ['app', 1000, 1000, [50, 998]],
    // a numeric uid with a passwd entry behaves like its name
    ['1000', 1000, 1000, [50, 998]],
    // an explicit group sets the primary gid and no supplementary groups
    ['app:staff', 1000, 50, []],
    ['app:998', 1000, 998, []],
    // a numeric group without an entry is fine
    ['app:4242', 1000, 4242, []],
    // a numeric uid without an entry: gid 0
    ['4242', 4242, 0, []],
    ['4242:4242', 4242, 4242, []],
    ['4242:staff', 4242, 50, []],
    // a number is always a uid, never the user *named* "1234" (uid 4321)
    ['1234', 1234, 0, []],
    // empty user with a group: root with that group
    [':staff', 0, 50, []],
    // first match wins on duplicate names
    ['dup', 1001, 1001, [50]],
    ['nobody', 65534, 65534, []],
  ])('%j → %i:%i %j', async (spec, uid, gid, additionalGids) => {
    expect(await resolveUser(fixture, spec)).toEqual({ uid, gid, additionalGids });
  });

  test.each([
    ['nosuch', 'unable to find user nosuch: no matching entries in passwd file'],
    // a malformed passwd line never matches
    ['broken', 'unable to find user broken: no matching entries in passwd file'],
    // out of the uid range: treated as a name, which does not exist
    ['99999999999', 'unable to find user 99999999999: no matching entries in passwd file'],
    ['app:nosuch', 'unable to find group nosuch: no matching entries in group file'],
  ])('%j fails with USER_UNKNOWN', async (spec, message) => {
    const err = await resolveUser(fixture, spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TsbuildError);
    expect(err).toMatchObject({ code: 'USER_UNKNOWN', message });
  });
});

describe('resolveUser without passwd/group', () => {
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  test.each([
    ['', 0, 0],
    ['0', 0, 0],
    ['1000', 1000, 0],
    ['1000:1000', 1000, 1000],
  ])('%j → %i:%i', async (spec, uid, gid) => {
    expect(await resolveUser(empty, spec)).toEqual({ uid, gid, additionalGids: [] });
  });
  test('a name fails', async () => {
    await expect(resolveUser(empty, 'app')).rejects.toMatchObject({ code: 'USER_UNKNOWN' });
  });
});

describe('resolveUser stays inside the rootfs', () => {
  const host = join(tmp, 'host');
  mkdirSync(host);
  writeFileSync(join(host, 'passwd'), 'hostonly:x:777:777::/:/bin/sh\n');
  test.each([
    ['absolute', join(host, 'passwd')],
    ['relative', '../../../host/passwd'],
  ])('an %s symlink to a host passwd is not followed out', async (name, target) => {
    const rootfs = join(tmp, `rootfs-${name}`);
    mkdirSync(join(rootfs, 'etc'), { recursive: true });
    symlinkSync(target, join(rootfs, 'etc/passwd'));
    await expect(resolveUser(rootfs, 'hostonly')).rejects.toMatchObject({ code: 'USER_UNKNOWN' });
  });
  test('a symlink resolving within the rootfs is followed', async () => {
    const rootfs = join(tmp, 'rootfs-inside');
    mkdirSync(join(rootfs, 'etc'), { recursive: true });
    mkdirSync(join(rootfs, 'data'));
    writeFileSync(join(rootfs, 'data/passwd'), 'inside:x:5:6::/:/bin/sh\n');
    symlinkSync('/data/passwd', join(rootfs, 'etc/passwd'));
    expect(await resolveUser(rootfs, 'inside')).toEqual({ uid: 5, gid: 6, additionalGids: [] });
  });
});

test('parsePasswd skips comments, blanks and malformed lines', () => {
  expect(parsePasswd('# c\n\na:x:1:2::/:/bin/sh\nb:x:y:2::/:\nc\n')).toEqual([{ name: 'a', uid: 1, gid: 2, home: '/' }]);
});

test('homeDir is the passwd home of the uid, "/" without one', async () => {
  expect(await homeDir(fixture, 1000)).toBe('/home/app');
  expect(await homeDir(fixture, 0)).toBe('/root');
  expect(await homeDir(fixture, 4242)).toBe('/');
});
