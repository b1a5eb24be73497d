import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { coveringMount, ensureMountPoint, prepareMountPoints } from '../../../src/executor/mountPoints.ts';
import type { RuntimeMount } from '../../../src/executor/runtimeSpec.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsbuild-mountpoints-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const root = () => {
  const d = join(tmp, `r${++n}`);
  mkdirSync(d);
  return d;
};
const m = (destination: string, type = 'tmpfs', source = 'tmpfs'): RuntimeMount => ({ destination, type, source, options: [] });

describe('coveringMount', () => {
  const ms = [m('/proc'), m('/dev'), m('/dev/pts'), m('/devices'), m('/dev/shm/x'), m('/data'), m('/data/sub/dir')];
  test.each([
    [0, undefined],
    [2, '/dev'],
    // a prefix of the name is not a parent
    [3, undefined],
    [4, '/dev'],
    [6, '/data'],
  ])('mount %i is covered by %s', (i, want) => {
    expect(coveringMount(ms, i)?.destination).toBe(want);
  });
});

describe('ensureMountPoint', () => {
  test('creates missing parents and the file, reporting them parents first', async () => {
    const r = root();
    const got = await ensureMountPoint(r, '/etc/resolv.conf', 'file');
    expect(got).toEqual({ path: join(r, 'etc/resolv.conf'), created: ['etc', 'etc/resolv.conf'] });
    expect(readFileSync(got.path, 'utf8')).toBe('');
  });
  test('existing entries are left alone and not reported', async () => {
    const r = root();
    mkdirSync(join(r, 'proc'));
    writeFileSync(join(r, 'hosts'), 'x');
    expect((await ensureMountPoint(r, '/proc', 'dir')).created).toEqual([]);
    expect((await ensureMountPoint(r, '/hosts', 'file')).created).toEqual([]);
    expect(readFileSync(join(r, 'hosts'), 'utf8')).toBe('x');
  });
  test('symlinks resolve inside the root: an absolute link to a host path stays in root', async () => {
    const r = root();
    const host = join(tmp, 'host-target');
    mkdirSync(join(r, 'etc'));
    symlinkSync(join(host, 'hosts'), join(r, 'etc/hosts'));
    const got = await ensureMountPoint(r, '/etc/hosts', 'file');
    expect(got.path).toBe(join(r, host, 'hosts'));
    expect(existsSync(host)).toBe(false);
    expect(got.created[got.created.length - 1]).toBe(join(host, 'hosts').slice(1));
  });
  test('a dir mount point is a 0755 directory', async () => {
    const r = root();
    const got = await ensureMountPoint(r, '/a/b', 'dir');
    expect(got.created).toEqual(['a', 'a/b']);
    expect(statSync(got.path).isDirectory()).toBe(true);
  });
});

test('prepareMountPoints skips destinations under earlier mounts and binds files as files', async () => {
  const r = root();
  const src = join(tmp, 'src-file');
  writeFileSync(src, 'x');
  const got = await prepareMountPoints(r, [m('/dev'), m('/dev/shm'), { destination: '/etc/f', type: 'bind', source: src, options: ['rbind'] }]);
  expect(got.targets).toEqual([join(r, 'dev'), undefined, join(r, 'etc/f')]);
  expect(got.createdStubs).toEqual(['dev', 'etc', 'etc/f']);
  expect(statSync(join(r, 'etc/f')).isFile()).toBe(true);
});
