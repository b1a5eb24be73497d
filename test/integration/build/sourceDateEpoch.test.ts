import { afterAll, beforeAll, expect, test } from 'vitest';
import { join } from 'node:path';
import { ok, tsbuild } from '../../helpers/cli.ts';
import { blob, busyboxSuite, imageOf } from '../../helpers/image.ts';
import { tarEntries } from '../../helpers/fslisting.ts';

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
