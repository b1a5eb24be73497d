import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempRoot, ok, type TempRoot } from '../../helpers/cli.ts';
import { imageOf, importBusybox, jsonEvents, writeTree } from '../../helpers/image.ts';
import { startRegistry, type RunningRegistry } from '../../helpers/registry.ts';

// The CI story: runner A builds, pushes the image and exports the cache; runner B,
// with an empty store and a fresh copy of the context, builds the same Buildfile
// from that cache: every step CACHED, nothing run, the same image.

let reg: RunningRegistry;
let t: TempRoot;

beforeAll(async () => {
  reg = await startRegistry();
  t = makeTempRoot('tsbuild-ci-');
});
afterAll(async () => {
  await reg?.stop();
  t?.cleanup();
});

function context(base: string): string {
  const d = mkdtempSync(join(t.dir, 'ctx-'));
  writeTree(d, {
    Buildfile: [
      `FROM ${base} AS build`,
      'RUN echo built > /b && sleep 0.2',
      `FROM ${base}`,
      'WORKDIR /app',
      'COPY app.txt ./',
      'COPY --from=build /b /b',
      'RUN cat /b /app/app.txt > /out',
      'CMD ["cat", "/out"]',
      '',
    ].join('\n'),
    'app.txt': 'app v1\n',
  });
  return d;
}

function steps(stderr: string) {
  const ev = jsonEvents(stderr);
  return {
    ran: ev.filter((e) => e.type === 'step.start' && !e.step.text.startsWith('FROM')).map((e) => e.step.text),
    cached: ev.filter((e) => e.type === 'step.cached').map((e) => e.step.text),
  };
}

describe.each(['registry', 'local'])('shared build cache (%s)', (kind) => {
  test('runner B builds from runner A\'s cache: every step cached, nothing run, same image', async () => {
    const rootA = join(t.dir, `A-${kind}`);
    const rootB = join(t.dir, `B-${kind}`);
    const base = `${reg.host}/base/busybox:${kind}`;
    await importBusybox(rootA, t.dir, base);
    await ok(['--root', rootA, 'push', base]);
    const cacheDir = join(t.dir, `cache-${kind}`);
    const to = kind === 'registry' ? `type=registry,ref=${reg.host}/app:cache-${kind},mode=max` : `type=local,dest=${cacheDir},mode=max`;
    const from = kind === 'registry' ? `type=registry,ref=${reg.host}/app:cache-${kind}` : `type=local,src=${cacheDir}`;

    const a = await ok(['--root', rootA, 'build', '--progress=json', '-t', `${reg.host}/app:${kind}`, '--push', '--cache-to', to, context(base)]);
    expect(steps(a.stderr).ran).toHaveLength(5);

    const b = await ok(['--root', rootB, 'build', '--progress=json', '-t', `app:${kind}`, '--cache-from', from, context(base)]);
    const sb = steps(b.stderr);
    expect(sb.ran).toEqual([]);
    expect(sb.cached).toEqual(['RUN echo built > /b && sleep 0.2', 'WORKDIR /app', 'COPY app.txt ./', 'COPY --from=build /b /b', 'RUN cat /b /app/app.txt > /out']);
    expect(b.stdout.trim()).toBe(a.stdout.trim());
    expect(imageOf(rootB, `app:${kind}`).config.rootfs.diff_ids).toEqual(imageOf(rootA, `${reg.host}/app:${kind}`).config.rootfs.diff_ids);

    // The build stage's layer is never needed on B (its COPY --from hit): not downloaded.
    await ok(['--root', rootA, 'build', '--progress=quiet', '--target', 'build', '-t', `stage:${kind}`, context(base)]);
    const buildLayer = imageOf(rootA, `stage:${kind}`).config.rootfs.diff_ids.at(-1) as string;
    expect(existsSync(join(rootB, 'oci/blobs/sha256', buildLayer.slice(7)))).toBe(false);
  });
});
