import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ok, tsbuild } from '../../helpers/cli.ts';
import { busyboxSuite, jsonEvents } from '../../helpers/image.ts';
import { isRoot } from '../../helpers/rootfs.ts';

// A mistake on the command line gets one line that says what is wrong, with a suggestion when
// there is a likely one, before any work is done.

let dir: string;
let ctx: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-mistakes-'));
  ctx = join(dir, 'ctx');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Buildfile'), 'FROM busybox\nRUN echo a step ran\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('build checks its arguments before it starts', () => {
  test('an invalid -t name fails before any step runs', async () => {
    const r = await tsbuild(['--root', join(dir, 'root'), 'build', '--progress=plain', '-t', 'ok:1', '-t', 'Bad:Tag!', ctx]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe([
      'error: build: -t Bad:Tag!: invalid reference "Bad:Tag!": tag "Tag!" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}',
      '  hint: references look like name[:tag] or name@sha256:<64 hex>, e.g. app:1, localhost:5000/team/app:v2',
      '',
    ].join('\n'));
  });
});

describe('a mistake gets a suggestion, and names the command typed', () => {
  test.each([
    // each: argv, the error, its hint
    [['biuld', '.'], 'unknown command "biuld" (did you mean build?)', "run 'tsbuild --help'"],
    [['imgaes'], 'unknown command "imgaes" (did you mean images?)', "run 'tsbuild --help'"],
    [['frobnicate'], 'unknown command "frobnicate"', "run 'tsbuild --help'"],
    [['image', 'lss'], 'unknown command "image lss" (did you mean image ls?)', "run 'tsbuild image --help'"],
    [['build', '--tags', 'x', '.'], 'build: unknown flag --tags (did you mean --tag?)', "run 'tsbuild build --help'"],
    [['--tags', 'x', '.'], 'unknown flag --tags (did you mean --tag?)', "run 'tsbuild --help'"],
    [['--rot', 'x', 'images'], 'images: unknown flag --rot (did you mean --root?)', "run 'tsbuild --help' or 'tsbuild images --help'"],
    [['images', '--quite'], 'images: unknown flag --quite (did you mean --quiet?)', "run 'tsbuild images --help'"],
    [['image', 'ls', '--quite'], 'image ls: unknown flag --quite (did you mean --quiet?)', "run 'tsbuild image ls --help'"],
    [['container', 'ls', '-x'], 'container ls: unknown flag -x', "run 'tsbuild container ls --help'"],
    [['push', '--compresion', 'zstd', 'x'], 'push: unknown flag --compresion (did you mean --compression?)', "run 'tsbuild push --help'"],
    [['build', '-t'], 'build: flag -t needs a value', "run 'tsbuild build --help'"],
    [['build', '-t', '--no-cache', '.'], 'build: flag -t needs a value (one that starts with "-" is written --tag=--no-cache)', "run 'tsbuild build --help'"],
    [['build', '--no-cache=maybe', '.'], 'build: flag --no-cache takes true or false, not "maybe"', "run 'tsbuild build --help'"],
    [['parse', 'extra'], 'parse: unexpected argument "extra"', "run 'tsbuild parse --help'"],
  ])('%j', async (argv, error, hint) => {
    const r = await tsbuild(['--root', join(dir, 'root'), ...argv]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${error}\n  hint: ${hint}\n`);
    // Quotes come in pairs.
    for (const q of ['"', "'"]) expect(r.stderr.split(q).length % 2, r.stderr).toBe(1);
  });

  test('a Buildfile typo gets one too', async () => {
    const r = await tsbuild(['parse', '-f', '-'], { input: 'FORM busybox\n' });
    expect(r.stderr).toBe('error: <stdin>:1:1: unknown instruction: FORM (did you mean FROM?)\n');
  });
});

describe.runIf(isRoot)('--no-cache takes a value, as in docker', () => {
  const suite = busyboxSuite({ beforeAll, afterAll });

  test('--no-cache=true runs every step, --no-cache=false uses the cache', async () => {
    const { root } = suite.t;
    const c = suite.ctx({ Buildfile: 'FROM busybox\nRUN echo cache me\n' });
    const cached = async (flag: string) => jsonEvents((await ok(['--root', root, 'build', '--progress=json', flag, c])).stderr).some((e) => e.type === 'step.cached');
    await ok(['--root', root, 'build', '--progress=quiet', c]);
    expect(await cached('--no-cache=true')).toBe(false);
    expect(await cached('--no-cache=false')).toBe(true);
    expect(await cached('--no-cache')).toBe(false);
  });
});
