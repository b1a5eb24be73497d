import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildSteps, warnings } from '../../helpers/cache.ts';
import { makeTempRoot, ok, type TempRoot } from '../../helpers/cli.ts';
import { imageOf, importBusybox, jsonEvents, makeContext } from '../../helpers/image.ts';
import { startRegistry, type RunningRegistry } from '../../helpers/registry.ts';
import { isRoot } from '../../helpers/rootfs.ts';

// --cache-from given several times (each cache made by another CI job), and the
// first CI run, when the cache named by --cache-from does not exist yet.

let reg: RunningRegistry;
let t: TempRoot;
let baseTar: string;

const BUILDFILE = [
  'FROM busybox:latest AS a',
  'RUN echo a > /a',
  'FROM busybox:latest AS b',
  'RUN echo b > /b',
  'FROM busybox:latest',
  'COPY --from=a /a /a',
  'COPY --from=b /b /b',
  '',
].join('\n');

beforeAll(async () => {
  reg = await startRegistry();
  t = makeTempRoot('tsbuild-cachefrom-');
  await importBusybox(join(t.dir, 'A'), t.dir, 'busybox:latest');
  baseTar = join(t.dir, 'busybox-A.tar');
  await ok(['--root', join(t.dir, 'A'), 'save', '-o', baseTar, 'busybox:latest']);
});
afterAll(async () => {
  await reg?.stop();
  t?.cleanup();
});

/** runner makes a fresh store root holding A's busybox (same image id, so the same cache keys). */
async function runner(name: string): Promise<string> {
  const root = join(t.dir, name);
  await ok(['--root', root, 'load', '-i', baseTar]);
  return root;
}

function build(root: string, ...args: string[]) {
  return ok(['--root', root, 'build', '--progress=json', ...args, makeContext(t.dir, { Buildfile: BUILDFILE })]);
}

describe.runIf(isRoot)('--cache-from', () => {
  test('several values: records of every cache are used (registry and local together)', async () => {
    const cacheA = `${reg.host}/cache/app:a`;
    const cacheB = join(t.dir, 'cache-b');
    await build(await runner('job-a'), '--target', 'a', '--cache-to', `type=registry,ref=${cacheA}`);
    await build(await runner('job-b'), '--target', 'b', '--cache-to', `type=local,dest=${cacheB}`);

    const one = buildSteps((await build(await runner('one-cache'), '--cache-from', `type=registry,ref=${cacheA}`)).stderr);
    expect(one.cached).toEqual(['RUN echo a > /a']);
    expect(one.ran).toContain('RUN echo b > /b');

    const both = await build(await runner('two-caches'), '--cache-from', `type=registry,ref=${cacheA}`, '--cache-from', `type=local,src=${cacheB}`);
    const steps = buildSteps(both.stderr);
    // Stages a and b build in parallel: their events come in either order.
    expect(steps.cached.sort()).toEqual(['RUN echo a > /a', 'RUN echo b > /b']);
    expect(steps.ran).toEqual(['COPY --from=a /a /a', 'COPY --from=b /b /b']);
    expect(jsonEvents(both.stderr).filter((e) => e.type === 'info').map((e) => e.message)).toContain(`imported 2 cache records from ${cacheA}, ${cacheB}`);
    expect(warnings(both.stderr)).toEqual([]);
  });

  test('when two caches hold the same step, the first --cache-from wins', async () => {
    const first = join(t.dir, 'cache-first');
    const second = join(t.dir, 'cache-second');
    await build(await runner('job-1'), '--target', 'a', '--cache-to', `type=local,dest=${first}`);
    await new Promise((r) => setTimeout(r, 20));
    await build(await runner('job-2'), '--target', 'a', '--cache-to', `type=local,dest=${second}`);
    const created = (root: string) => (imageOf(root, 'a:1').config.history as { created: string }[]).at(-1)!.created;
    const r1 = await runner('pref-1');
    await build(r1, '--target', 'a', '-t', 'a:1', '--cache-from', `type=local,src=${first}`, '--cache-from', `type=local,src=${second}`);
    const r2 = await runner('pref-2');
    await build(r2, '--target', 'a', '-t', 'a:1', '--cache-from', `type=local,src=${second}`, '--cache-from', `type=local,src=${first}`);
    expect(created(r1)).not.toBe(created(r2));
    const own = async (name: string, cache: string) => {
      const r = await runner(name);
      await build(r, '--target', 'a', '-t', 'a:1', '--cache-from', `type=local,src=${cache}`);
      return created(r);
    };
    expect(created(r1)).toBe(await own('only-1', first));
    expect(created(r2)).toBe(await own('only-2', second));
  });

  test('a cache that does not exist yet (first CI run) is a warning, and --cache-to then creates it', async () => {
    const ref = `${reg.host}/cache/new:ci`;
    const otherTag = `${reg.host}/cache/app:no-such-tag`;
    const dir = join(t.dir, 'no-such-dir');
    const res = await build(await runner('first-run'), '--cache-from', `type=registry,ref=${ref}`, '--cache-from', `type=registry,ref=${otherTag}`,
      '--cache-from', `type=local,src=${dir}`, '--cache-to', `type=registry,ref=${ref},mode=max`);
    const w = warnings(res.stderr);
    expect(w).toHaveLength(3);
    for (const [i, where] of [ref, otherTag, dir].entries()) expect(w[i]).toContain(where);
    expect(buildSteps(res.stderr).ran.sort()).toEqual(['COPY --from=a /a /a', 'COPY --from=b /b /b', 'RUN echo a > /a', 'RUN echo b > /b']);

    const second = await build(await runner('second-run'), '--cache-from', `type=registry,ref=${ref}`);
    expect(warnings(second.stderr)).toEqual([]);
    expect(buildSteps(second.stderr).ran).toEqual([]);
  });
});
