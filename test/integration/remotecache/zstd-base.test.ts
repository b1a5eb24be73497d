import { afterAll, beforeAll, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempRoot, ok, type TempRoot } from '../../helpers/cli.ts';
import { importBusybox, makeContext } from '../../helpers/image.ts';
import { startRegistry, type RunningRegistry } from '../../helpers/registry.ts';

// An image pushed with zstd layers is an ordinary base: a fresh store pulls it on
// FROM, extracts its zstd layers and runs a step on top.

let reg: RunningRegistry;
let t: TempRoot;
beforeAll(async () => {
  reg = await startRegistry();
  t = makeTempRoot('tsbuild-zstd-');
});
afterAll(async () => {
  await reg?.stop();
  t?.cleanup();
});

test('FROM an image pushed with --compression zstd builds in a fresh store', async () => {
  const base = `${reg.host}/base/busybox:zstd`;
  const rootA = join(t.dir, 'A');
  await importBusybox(rootA, t.dir, base);
  await ok(['--root', rootA, 'push', '--compression', 'zstd', base]);
  const rootB = join(t.dir, 'B');
  const ctx = makeContext(t.dir, { Buildfile: `FROM ${base}\nRUN echo on-zstd > /z\n` });
  const out = join(t.dir, 'out');
  await ok(['--root', rootB, 'build', '--progress=quiet', '--output', `type=local,dest=${out}`, ctx]);
  expect(readFileSync(join(out, 'z'), 'utf8')).toBe('on-zstd\n');
  expect(readFileSync(join(out, 'bin/busybox')).length).toBeGreaterThan(100_000);
});
