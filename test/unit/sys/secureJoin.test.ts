import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { secureJoin, secureJoinSync } from '../../../src/sys/secureJoin.ts';

// secureJoin resolves a path inside root as if root were `/`: no `..`, absolute
// name or symlink may lead outside it.

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tsbuild-securejoin-'));
  mkdirSync(join(root, 'etc/app'), { recursive: true });
  writeFileSync(join(root, 'etc/app/conf'), 'x');
  symlinkSync('/etc', join(root, 'abs'));          // absolute: means root/etc
  symlinkSync('../../..', join(root, 'etc/app/up')); // climbs above root: clamped
  symlinkSync('app/conf', join(root, 'etc/rel'));  // relative, inside
  symlinkSync('loop', join(root, 'loop'));
  writeFileSync(join(root, 'file'), 'f');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('secureJoin', () => {
  test.each([
    ['etc/app/conf', 'etc/app/conf'],
    ['/etc/app/conf', 'etc/app/conf'],
    ['../../etc/app', 'etc/app'],
    ['abs/app/conf', 'etc/app/conf'],
    ['etc/app/up/etc/app', 'etc/app'],
    // `..` is cleaned lexically first (path.posix.normalize), before any link is followed.
    ['etc/app/up/../../x', 'etc/x'],
    ['etc/rel', 'etc/app/conf'],
    ['missing/a/b', 'missing/a/b'],
    ['file/below', 'file/below'],
    ['', ''],
  ])('%s → ROOT/%s', async (p, want) => {
    expect(secureJoinSync(root, p)).toBe(join(root, want));
    expect(await secureJoin(root, p)).toBe(join(root, want));
  });

  test('followLast=false leaves the last component as written', () => {
    expect(secureJoinSync(root, 'abs', false)).toBe(join(root, 'abs'));
    expect(secureJoinSync(root, 'abs/app', false)).toBe(join(root, 'etc/app'));
  });

  test('a symlink loop fails with ELOOP instead of spinning', () => {
    expect(() => secureJoinSync(root, 'loop/x')).toThrow(expect.objectContaining({ code: 'ELOOP' }));
  });
});
