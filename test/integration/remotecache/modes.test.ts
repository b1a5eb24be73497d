import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildSteps, readLocalCache } from '../../helpers/cache.ts';
import { makeTempRoot, ok, type TempRoot } from '../../helpers/cli.ts';
import { imageOf, importBusybox, makeContext } from '../../helpers/image.ts';
import { isRoot } from '../../helpers/rootfs.ts';

// --cache-to mode=min|max, as BuildKit documents them: min (the default) exports
// only the layers of the resulting image, max every step of the build.
// Here the image is built FROM a stage (whose layers it holds) and COPYs from
// another (whose layer it does not).

let t: TempRoot;

const BUILDFILE = [
  'FROM busybox:latest AS tool',
  'RUN echo tool > /t',
  'FROM busybox:latest AS base',
  'RUN echo base > /base',
  'FROM base',
  'COPY --from=tool /t /t',
  'RUN cat /t /base > /out',
  '',
].join('\n');
const IMAGE_STEPS = ['RUN echo base > /base', 'COPY --from=tool /t /t', 'RUN cat /t /base > /out'];

beforeAll(async () => {
  t = makeTempRoot('tsbuild-cachemode-');
  await importBusybox(join(t.dir, 'A'), t.dir, 'busybox:latest');
});
afterAll(() => t?.cleanup());

/** imageLayers is the diff_ids the build added on top of busybox, sorted. */
function imageLayers(root: string, tag: string): string[] {
  const base = imageOf(root, 'busybox:latest').config.rootfs.diff_ids as string[];
  return (imageOf(root, tag).config.rootfs.diff_ids as string[]).filter((d) => !base.includes(d)).sort();
}

describe.runIf(isRoot)('cache export modes', () => {
  test.each([
    ['mode=min', 'min-explicit', ',mode=min'],
    ['no mode (min is the default)', 'min-default', ''],
  ])('%s exports the records of the image\'s own layers only, the FROM stage\'s included', async (_name, dir, mode) => {
    const rootA = join(t.dir, 'A');
    const cache = join(t.dir, dir);
    await ok(['--root', rootA, 'build', '--progress=quiet', '-t', 'app:min', '--cache-to', `type=local,dest=${cache}${mode}`, makeContext(t.dir, { Buildfile: BUILDFILE })]);
    const exported = readLocalCache(cache);
    const mine = imageLayers(rootA, 'app:min');
    expect(mine).toHaveLength(3);
    expect(exported.recordLayers).toEqual(mine);
    expect(exported.blobLayers).toEqual(mine);
    expect(exported.steps).toEqual(['COPY /t /t # buildkit', 'RUN /bin/sh -c cat /t /base > /out # buildkit', 'RUN /bin/sh -c echo base > /base # buildkit']);
  });

  test('mode=max also exports the stage only copied from', async () => {
    const rootA = join(t.dir, 'A');
    const cache = join(t.dir, 'cache-max');
    await ok(['--root', rootA, 'build', '--progress=quiet', '-t', 'app:max', '--cache-to', `type=local,dest=${cache},mode=max`, makeContext(t.dir, { Buildfile: BUILDFILE })]);
    const exported = readLocalCache(cache);
    const mine = imageLayers(rootA, 'app:max');
    expect(exported.recordLayers).toHaveLength(4);
    expect(exported.recordLayers.filter((d) => !mine.includes(d))).toHaveLength(1);
    expect(exported.blobLayers).toEqual(exported.recordLayers);
  });

  test('a fresh runner from a min cache runs only the step outside the image, and makes the same image', async () => {
    const rootA = join(t.dir, 'A');
    const rootB = join(t.dir, 'B-min');
    // The same base image as A's (a new import would have other mtimes, so other keys).
    await ok(['--root', rootA, 'save', '-o', join(t.dir, 'busybox.tar'), 'busybox:latest']);
    await ok(['--root', rootB, 'load', '-i', join(t.dir, 'busybox.tar')]);
    const cache = join(t.dir, 'min-for-B');
    await ok(['--root', rootA, 'build', '--progress=quiet', '-t', 'app:min', '--cache-to', `type=local,dest=${cache},mode=min`, makeContext(t.dir, { Buildfile: BUILDFILE })]);
    const b = await ok(['--root', rootB, 'build', '--progress=json', '-t', 'app:min', '--cache-from', `type=local,src=${cache}`, makeContext(t.dir, { Buildfile: BUILDFILE })]);
    const steps = buildSteps(b.stderr);
    expect(steps.ran).toEqual(['RUN echo tool > /t']);
    expect(steps.cached).toEqual(IMAGE_STEPS);
    expect(imageOf(rootB, 'app:min').manifest.config.digest).toBe(imageOf(rootA, 'app:min').manifest.config.digest);
  });
});
