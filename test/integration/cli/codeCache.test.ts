import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tsbuild } from '../../helpers/cli.ts';

// dist/tsbuild.mjs runs the CLI bundle from V8's code cache (src/boot/loader.ts).
describe('the code cache of the CLI', () => {
  let dir: string;
  let root: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-v8-'));
    root = mkdtempSync(join(tmpdir(), 'tsbuild-v8root-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });
  const env = () => ({ TSBUILD_CODE_CACHE: dir });
  const caches = () => readdirSync(dir).sort();

  it('is written by a successful run, per command, and not by a failed one or by --help', async () => {
    expect((await tsbuild(['--root', root, 'frobnicate'], { env: env() })).code).not.toBe(0);
    expect((await tsbuild(['--help'], { env: env() })).code).toBe(0);
    expect((await tsbuild(['--root', root, 'images'], { env: env() })).code).toBe(0);
    expect(caches()).toHaveLength(1);
    expect(caches()[0]).toMatch(new RegExp(`^[0-9a-f]{16}-${process.version.replace(/\./g, '\\.')}-${process.arch}-images\\.bin$`));
    // The build form without the command word is `build`.
    writeFileSync(join(root, 'Buildfile'), 'FROM scratch\nLABEL a=b\n');
    const r = await tsbuild(['--root', root, '-f', join(root, 'Buildfile'), root], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(caches().map((n) => n.replace(/^.*-/, ''))).toEqual(['build.bin', 'images.bin']);
  });

  it('is used as it is when V8 accepts it, and replaced when it does not', async () => {
    expect((await tsbuild(['--root', root, 'images'], { env: env() })).code).toBe(0);
    const file = join(dir, caches()[0]!);
    const first = statSync(file).mtimeMs;
    const r = await tsbuild(['--root', root, 'images'], { env: env() });
    expect(r.code).toBe(0);
    expect(statSync(file).mtimeMs).toBe(first);
    writeFileSync(file, 'not a code cache');
    const again = await tsbuild(['--root', root, 'images'], { env: env() });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(r.stdout);
    expect(readFileSync(file).length).toBeGreaterThan(10_000);
  });

  it('removes the caches of other bundles unused for a week, and keeps recent ones', async () => {
    const stale = join(dir, '0123456789abcdef-v20.0.0-x64-build.bin');
    const recent = join(dir, 'fedcba9876543210-v20.0.0-x64-build.bin');
    writeFileSync(stale, 'old');
    writeFileSync(recent, 'new');
    const eightDaysAgo = (Date.now() - 8 * 24 * 3600 * 1000) / 1000;
    utimesSync(stale, eightDaysAgo, eightDaysAgo);
    expect((await tsbuild(['--root', root, 'images'], { env: env() })).code).toBe(0);
    expect(caches()).toContain('fedcba9876543210-v20.0.0-x64-build.bin');
    expect(caches()).not.toContain('0123456789abcdef-v20.0.0-x64-build.bin');
  });

  it('is off with TSBUILD_CODE_CACHE=off', async () => {
    const r = await tsbuild(['--root', root, 'images'], { env: { TSBUILD_CODE_CACHE: 'off', HOME: dir, XDG_CACHE_HOME: dir } });
    expect(r.code).toBe(0);
    expect(caches()).toEqual([]);
  });
});
