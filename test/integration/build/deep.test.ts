import { afterAll, beforeAll, expect, test } from 'vitest';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempRoot, ok, type TempRoot } from '../../helpers/cli.ts';
import { imageOf, importBusybox, unpack } from '../../helpers/image.ts';

let t: TempRoot;
beforeAll(async () => {
  t = makeTempRoot();
  await importBusybox(t.root, t.dir);
});
afterAll(() => t.cleanup());

test('a 130-layer image builds, and a RUN on top of it still mounts all its lowers', async () => {
  const ctx = mkdtempSync(join(t.dir, 'ctx-'));
  const lines = ['FROM busybox'];
  for (let i = 1; i <= 130; i++) lines.push(`RUN echo ${i} > /f${i}`);
  writeFileSync(join(ctx, 'Buildfile'), lines.join('\n') + '\n');
  await ok(['--root', t.root, 'build', '--progress=quiet', '-t', 'deep:1', ctx]);
  writeFileSync(join(ctx, 'Buildfile'), [...lines, 'RUN cat /f1 /f65 /f130 > /sum'].join('\n') + '\n');
  await ok(['--root', t.root, 'build', '--progress=quiet', '-t', 'deep:2', ctx]);
  expect(imageOf(t.root, 'deep:2').config.rootfs.diff_ids).toHaveLength(132);
  const rootfs = unpack(t.root, 'deep:2', join(t.dir, 'unpack-deep'));
  expect(readFileSync(join(rootfs, 'sum'), 'utf8')).toBe('1\n65\n130\n');
}, 600_000);
