import { afterAll, beforeAll, expect, test } from 'vitest';
import { join } from 'node:path';
import { ok, tsbuild } from '../../helpers/cli.ts';
import { busyboxSuite } from '../../helpers/image.ts';

// --root is global before the command word or among the command's own options before its
// first argument; a container command's own arguments are never read as ours.

const suite = busyboxSuite({ beforeAll, afterAll });

test('a container command keeps its own --root arguments', async () => {
  const { root } = suite.t;
  const elsewhere = join(suite.t.dir, 'elsewhere');
  const cases = [
    ['--root', root, 'run', '--rm', 'busybox', 'echo', '--root', elsewhere],
    ['run', '--root', root, '--rm', 'busybox', 'echo', '--root', elsewhere],
    ['run', '--rm', `--root=${root}`, 'busybox', 'echo', '--root', elsewhere],
    ['container', 'run', '--root', root, '--rm', 'busybox', 'echo', '--root', elsewhere],
    ['--root', root, 'run', '--rm', '-e', 'X=1', '--', 'busybox', 'echo', `--root=${elsewhere}`],
  ];
  for (const argv of cases) {
    const r = await ok(argv, { env: { TSBUILD_ROOT: join(suite.t.dir, 'unused') } });
    expect(r.stdout.trim(), argv.join(' ')).toMatch(/^--root(=| )\S*elsewhere$/);
  }
});

test('--root after a command\'s first argument is that command\'s (an unknown option to build)', async () => {
  const { root } = suite.t;
  const ctx = suite.ctx({ Buildfile: 'FROM busybox\n' });
  const before = await ok(['build', '-t', 'rooted:1', '--root', root, '--progress=quiet', ctx]);
  expect(before.stdout).toMatch(/^sha256:/);
  const after = await tsbuild(['build', '--progress=quiet', ctx, '--root', root]);
  expect(after.code).not.toBe(0);
  expect(after.stderr).toMatch(/^error: build: unknown flag --root$/m);
});
