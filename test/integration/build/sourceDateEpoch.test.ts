import { afterAll, beforeAll, expect, test } from 'vitest';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ok, tsbuild } from '../../helpers/cli.ts';
import { blob, busyboxSuite, imageOf } from '../../helpers/image.ts';
import { tarEntries } from '../../helpers/fslisting.ts';
import { buildSteps } from '../../helpers/cache.ts';

const suite = busyboxSuite({ beforeAll, afterAll });
const EPOCH = 1_600_000_000;
const EPOCH_ISO = new Date(EPOCH * 1000).toISOString();
const BUILDFILE = 'FROM busybox\nENV A=1\nRUN echo run > /run.txt && mkdir -p /d && touch /d/f\nCOPY in.txt /in.txt\nWORKDIR /w\n';

/** newLayers are the tar entries of the layers the build added on top of busybox's one. */
function newLayerMtimes(root: string, name: string): number[] {
  const { manifest } = imageOf(root, name);
  return manifest.layers.slice(1).flatMap((l: { digest: string }) => tarEntries(blob(root, l.digest)).map((e) => e.mtime));
}

/** newHistory are the history times of the steps after busybox's import. */
function newHistoryTimes(root: string, name: string): string[] {
  const { config } = imageOf(root, name);
  return config.history.slice(1).map((h: { created: string }) => h.created);
}

test('a SOURCE_DATE_EPOCH build after a normal one clamps every new layer and time, and repeats bit for bit', async () => {
  const { root } = suite.t;
  const ctx = suite.ctx({ Buildfile: BUILDFILE, 'in.txt': 'in\n' });
  const env = { SOURCE_DATE_EPOCH: String(EPOCH) };
  const plain = await ok(['--root', root, 'build', '--progress=quiet', '-t', 'sde:plain', ctx]);
  const first = await ok(['--root', root, 'build', '--progress=quiet', '-t', 'sde:one', ctx], { env });
  expect(first.stdout).not.toBe(plain.stdout);
  const mtimes = newLayerMtimes(root, 'sde:one');
  expect(mtimes.length).toBeGreaterThan(3);
  expect(mtimes.filter((m) => m > EPOCH)).toEqual([]);
  expect(newHistoryTimes(root, 'sde:one')).toEqual(['ENV', 'RUN', 'COPY', 'WORKDIR'].map(() => EPOCH_ISO));
  expect(imageOf(root, 'sde:one').config.created).toBe(EPOCH_ISO);
  // The normal build's own records are untouched: it still hits them, unclamped.
  expect(newLayerMtimes(root, 'sde:plain').some((m) => m > EPOCH)).toBe(true);
  const again = await ok(['--root', root, 'build', '--progress=quiet', '-t', 'sde:two', ctx], { env });
  expect(again.stdout).toBe(first.stdout);
  const fresh = await ok(['--root', root, 'build', '--progress=quiet', '--no-cache', '-t', 'sde:three', ctx], { env });
  expect(fresh.stdout).toBe(first.stdout);
});

test('an invalid SOURCE_DATE_EPOCH is a usage error, as for import', async () => {
  const { root } = suite.t;
  const ctx = suite.ctx({ Buildfile: 'FROM busybox\nRUN true\n' });
  for (const bad of ['yesterday', '-5', '1.5']) {
    const r = await tsbuild(['--root', root, 'build', '--progress=quiet', ctx], { env: { SOURCE_DATE_EPOCH: bad } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`SOURCE_DATE_EPOCH must be whole seconds since 1970, not "${bad}"`);
    const imp = await tsbuild(['--root', root, 'import', join(ctx, 'Buildfile'), 'x'], { env: { SOURCE_DATE_EPOCH: bad } });
    expect(imp.stderr).toContain(`SOURCE_DATE_EPOCH must be whole seconds since 1970, not "${bad}"`);
  }
});

test('with SOURCE_DATE_EPOCH a later RUN sees the same times cold (adopted upper dir) as warm (layer from its blob)', async () => {
  const { root } = suite.t;
  const ctx = suite.ctx({ Buildfile: [
    'FROM busybox',
    'RUN mkdir -p /d/e && echo a > /d/a && echo b > /b && ln -s a /d/l && touch -d "2001-02-03 04:05:06" /d/old',
    "RUN stat -c '%n %Y %y' /d /d/e /d/a /b /d/old > /times && stat -c '%n %Y %y' -L /d/l >> /times",
    "RUN stat -c '%n %Y %y' /times /d/a > /times2",
    '',
  ].join('\n') });
  const env = { SOURCE_DATE_EPOCH: String(EPOCH) };
  await ok(['--root', root, 'build', '--progress=quiet', '--no-cache', '-t', 'sde:cold', ctx], { env });
  const cold = imageOf(root, 'sde:cold').manifest.layers.map((l: { digest: string }) => l.digest);
  // Warm for the first RUN only, as a runner that got its record and blob but not its snapshot:
  // keep that record, and make every layer come from its blob.
  const keys = join(root, 'cache/keys');
  for (const k of readdirSync(keys)) {
    if (!JSON.parse(readFileSync(join(keys, k), 'utf8')).createdBy.includes('mkdir -p /d/e')) rmSync(join(keys, k));
  }
  rmSync(join(root, 'snapshots'), { recursive: true, force: true });
  const r = await ok(['--root', root, 'build', '--progress=json', '-t', 'sde:warm', ctx], { env });
  expect(buildSteps(r.stderr).cached).toEqual([expect.stringMatching(/^RUN mkdir/)]);
  const warm = imageOf(root, 'sde:warm').manifest.layers.map((l: { digest: string }) => l.digest);
  const times = (name: string, path: string) => tarEntries(blob(root, imageOf(root, name).manifest.layers.at(-2).digest)).find((e) => e.path === path)?.data.toString();
  expect(times('sde:warm', 'times'), 'what the second RUN saw').toEqual(times('sde:cold', 'times'));
  expect(warm).toEqual(cold);
});
