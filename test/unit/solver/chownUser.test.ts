import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { resolveChown } from '../../../src/solver/chownUser.ts';

// passwd: root 0:0, nobody 65534:65534, app 1000:1000 ... (the executor's fixture rootfs)
const ROOTFS = join(import.meta.dirname, '../executor/fixtures/rootfs');

describe('resolveChown (BuildKit file-op owners)', () => {
  test.each([
    ['1234', { uid: 1234, gid: 1234 }], // a numeric user is also the gid
    ['1234:5678', { uid: 1234, gid: 5678 }],
    ['0', { uid: 0, gid: 0 }],
    ['root', { uid: 0, gid: 0 }],
  ])('%s', async (spec, want) => {
    expect(await resolveChown(ROOTFS, spec)).toEqual(want);
  });

  test('names come from the image files; a group overrides the gid', async () => {
    const passwd = (await import('node:fs')).readFileSync(join(ROOTFS, 'etc/passwd'), 'utf8');
    const [name, , uid, gid] = passwd.split('\n').find((l) => l && !l.startsWith('root:'))!.split(':');
    expect(await resolveChown(ROOTFS, name!)).toEqual({ uid: Number(uid), gid: Number(gid) });
    expect(await resolveChown(ROOTFS, `${name}:0`)).toEqual({ uid: Number(uid), gid: 0 });
    expect(await resolveChown(ROOTFS, `${name}:root`)).toEqual({ uid: Number(uid), gid: 0 });
  });

  test('unknown names fail (Docker 20.10 would silently use 0:0)', async () => {
    await expect(resolveChown(ROOTFS, 'nosuchuser')).rejects.toThrow(/unable to find user nosuchuser/);
    await expect(resolveChown(ROOTFS, '0:nosuchgroup')).rejects.toThrow(/unable to find group nosuchgroup/);
  });
});
