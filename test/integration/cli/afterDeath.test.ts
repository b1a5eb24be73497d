import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ok } from '../../helpers/cli.ts';
import { busyboxSuite } from '../../helpers/image.ts';
import { makeBusyboxTar } from '../../helpers/rootfs.ts';

// A process killed in the middle of its work leaves staging behind in ROOT/tmp (a blob
// half written, a layer half extracted, a step dir). Every command that writes to the
// store removes what dead processes left there before it does anything else.

const suite = busyboxSuite({ beforeAll, afterAll });

/** leftovers plants what a killed process (an owner id no liveness socket answers for) would have left in ROOT/tmp. */
function leftovers(root: string): string[] {
  const dead = '0123456789abcdef';
  const blob = join(root, 'tmp', `blob-${dead}-0a1b2c`);
  const step = join(root, 'tmp', `run-${dead}-3d4e5f`);
  writeFileSync(blob, 'half a blob');
  mkdirSync(join(step, 'upper'), { recursive: true });
  return [blob, step];
}

test.each([
  ['import', (dir: string) => {
    const tar = join(dir, 'rootfs.tar');
    if (!existsSync(tar)) makeBusyboxTar(mkdtempSync(join(dir, 'bb-')), tar);
    return ['import', tar, 'again:1'];
  }],
  ['load', (dir: string) => {
    const tar = join(dir, 'saved.tar');
    return ['load', '-q', '-i', tar];
  }],
  ['run', () => ['run', '--rm', 'busybox', 'true']],
  ['build', (dir: string) => {
    const ctx = mkdtempSync(join(dir, 'ctx-'));
    writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\n');
    return ['build', '--progress=quiet', ctx];
  }],
])('%s first removes what dead processes left in ROOT/tmp', async (_name, argv) => {
  const { root, dir } = suite.t;
  if (!existsSync(join(dir, 'saved.tar'))) await ok(['--root', root, 'save', '-o', join(dir, 'saved.tar'), 'busybox']);
  const left = leftovers(root);
  await ok(['--root', root, ...argv(dir)]);
  expect(left.filter((p) => existsSync(p))).toEqual([]);
});
